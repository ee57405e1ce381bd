/** Runs a job once every job enqueued before it has settled. */
export type Queue = <T>(job: () => Promise<T>) => Promise<T>;

/**
 * A FIFO of async jobs, one at a time. A job's failure is reported to its caller only: the
 * jobs behind it still run.
 */
export function createQueue(): Queue {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
}
