import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'referentials/**/*.test.ts', 'adapters/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file isolates itself (own schema, own queue prefix, own data dir), so files run in parallel.
    pool: 'forks',
  },
});
