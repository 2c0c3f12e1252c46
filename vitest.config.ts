import { defineConfig } from 'vitest/config';

// Two passes: the main suite on PostgreSQL (a fresh database per test file, copied from a migrated
// template), and a small suite proving the embedded PGlite default end to end.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: ['test/pglite/**', 'dist/**', 'node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['test/pglite/**/*.test.ts'],
          // Each test here creates, migrates and seeds a WASM database: seconds when the machine is idle,
          // far more when it is busy. The limit only guards against a hang.
          testTimeout: 120_000,
          exclude: ['dist/**', 'node_modules/**'],
        },
      },
    ],
  },
});
