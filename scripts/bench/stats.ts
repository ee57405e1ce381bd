// Small numeric helpers for scripts/bench.ts, kept apart so tests/node can check them.

/** The median of the finite values; NaN when there is none. */
export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

/** Active CPU milliseconds in a V8 .cpuprofile: every sample's time delta except the idle node's (GC counts). */
export function activeProfileMs(profile: CpuProfile): number {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id));
  let micros = 0;
  profile.samples.forEach((node, index) => {
    if (!idle.has(node)) micros += profile.timeDeltas[index] ?? 0;
  });
  return micros / 1000;
}
