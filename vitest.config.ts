import { defineConfig } from "vitest/config";
import { workersProject } from "./tests/workers/project.ts";

export default defineConfig({
  test: {
    projects: [
      workersProject,
      {
        test: {
          name: "node",
          environment: "node",
          include: ["tests/node/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
