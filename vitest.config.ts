import { defineConfig } from 'vitest/config';

// Unit tests: the engine and every lib/ module, in Node, no browser.
export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
  },
});
