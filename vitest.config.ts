import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Worker-mode tests start real threads; keep files from starving each other on 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
