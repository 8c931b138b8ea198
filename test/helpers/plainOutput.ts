/**
 * Every test file starts here (vitest.config.ts setupFiles): the programs the tests run (publint, tsc,
 * node, the CLIs) print plain text whatever the CI's terminal settings are. CI sets `CI=true`, which
 * makes picocolors-based tools colour their output, and some runners set FORCE_COLOR; the tests
 * compare that output exactly.
 */
delete process.env.FORCE_COLOR;
process.env.NO_COLOR = "1";
