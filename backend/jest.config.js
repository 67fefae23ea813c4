/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testTimeout: 60_000,
  // Three workers on our 2-core machines: most test files spend their time waiting (on timers, rate windows, HTTP
  // answers and child processes), so a third file overlaps that waiting; each worker's PGlite, pg-boss and servers
  // take up to ~1.7 GB, well within the machines' memory. Every test picks free ports (port 0).
  maxWorkers: 3,
};
