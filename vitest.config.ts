import { defineConfig } from 'vitest/config';

// Projects: `unit` needs nothing; `conformance` and `faults` start real servers (slapd, PostgreSQL,
// SCIM, Keycloak, ...); `e2e` also starts the real control plane (test/controlplane) and, for the
// install test, a real node (test/node).
export default defineConfig({
  test: {
    projects: [
      // One module graph per worker instead of one per file: importing the tree for each file
      // took a third of the run (54 s -> 24 s). Files share no state; they pass in shuffled order.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      // Alone on the machine: it measures event-loop stalls, which other tests' CPU would distort.
      { test: { name: 'scale', include: ['test/scale/**/*.test.ts'], testTimeout: 600_000, fileParallelism: false } },
      { test: { name: 'conformance', include: ['test/conformance/**/*.conformance.test.ts'], testTimeout: 60_000, hookTimeout: 300_000 } },
      // Crashes, dead and slow systems (test/faults/README.md): one file at a time, since they kill
      // processes and stop servers on purpose and compare speeds with and without a fault.
      { test: { name: 'faults', include: ['test/faults/**/*.conformance.test.ts'], testTimeout: 60_000, hookTimeout: 300_000, fileParallelism: false } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/faults/**/*.e2e.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
