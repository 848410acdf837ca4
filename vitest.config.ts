import { defineConfig } from 'vitest/config';

// Two projects so `vitest run --project unit` stays fast and service-free, while the integration
// project alone pays for PostgreSQL and Kafka (started once, in its globalSetup).
export default defineConfig({
  test: {
    // Pool size is a run-wide setting in vitest 3 (per-project maxForks is ignored). Two files at
    // once matches the 2-core machines; more would mostly fight over the one broker and cluster.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // Teardown stops Kafka with up to 10 s of grace, plus PostgreSQL.
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
