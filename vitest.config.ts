import { defineConfig } from 'vitest/config';

// Every test chooses its own results directory; one a developer exported for their shell must not leak into them.
delete process.env.EXPCTL_RESULTS_DIR;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
