import { describe, expect, it } from "vitest";
import { activeProfileMs, median } from "../../scripts/bench/stats.ts";

describe("bench medians", () => {
  it("takes the middle of an odd count and the mean of the two middles of an even one", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("skips values that are not finite, and is NaN when none is left", () => {
    expect(median([Number.NaN, 5, Number.POSITIVE_INFINITY])).toBe(5);
    expect(median([Number.NaN])).toBeNaN();
  });
});

describe("startup profile CPU", () => {
  it("sums the samples outside the idle node", () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: "(root)" } },
        { id: 2, callFrame: { functionName: "(idle)" } },
        { id: 3, callFrame: { functionName: "(garbage collector)" } },
      ],
      samples: [1, 2, 3, 2, 1],
      timeDeltas: [1000, 5000, 1500, 7000, 500],
    };
    expect(activeProfileMs(profile)).toBe(3);
  });
});
