import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The programs the tests run print without colour, so their output compares exactly in CI too.
    setupFiles: ["test/helpers/plainOutput.ts"],
    // Pulumi's mock runtime is process-global state: every test file runs in its own fork.
    pool: "forks",
    // One fork per core, not vitest's default of cores − 1 (a single fork on a 2-core CI machine): most of
    // the slow files wait on the programs they start (the CLIs, sshd, tsc, npm), not on their own CPU.
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
