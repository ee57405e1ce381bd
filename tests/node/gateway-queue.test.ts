import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createQueue } from "../../scripts/gateway/queue.ts";

/** A job that logs its start and end around a real event-loop yield, like I/O would. */
function job(log: string[], name: string, ms: number, fail = false): () => Promise<string> {
  return async () => {
    log.push(`${name}:start`);
    await sleep(ms);
    log.push(`${name}:end`);
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
}

describe("gateway job queue (what keeps PGlite batches from interleaving)", () => {
  it("runs jobs one at a time in arrival order, even when each yields", async () => {
    const exclusive = createQueue();
    const log: string[] = [];
    const results = await Promise.all([
      exclusive(job(log, "a", 20)),
      exclusive(job(log, "b", 1)),
      exclusive(job(log, "c", 5)),
    ]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
  });

  it("keeps going after a failed job, which rejects only its own caller", async () => {
    const exclusive = createQueue();
    const log: string[] = [];
    const failing = exclusive(job(log, "a", 5, true));
    const next = exclusive(job(log, "b", 1));
    await expect(failing).rejects.toThrow("a failed");
    await expect(next).resolves.toBe("b");
    expect(log).toEqual(["a:start", "a:end", "b:start", "b:end"]);
  });
});
