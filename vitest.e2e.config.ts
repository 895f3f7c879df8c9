import { defineConfig } from 'vitest/config';

// End-to-end: the built extensions in real headless Chromium and Firefox, inside a private
// network namespace (tests/e2e/netns-run.sh). One browser at a time: the machine has 2 cores.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
