import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The programs the tests run print without colour, so their output compares exactly in CI too.
    setupFiles: ["test/helpers/plainOutput.ts"],
    // Pulumi's mock runtime is process-global state: every test file runs in its own fork.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
