/**
 * The production-shaped suite (`npm run test:production`): globalSetup starts
 * scripts/production-stack.sh (PostgreSQL, the Temporal server on it, two workers, two API
 * replicas) and the tests reach it only as an operator would: the APIs, the Temporal frontend,
 * the worker processes. One stack for the run, so test files run one at a time.
 */
const base = require('../../jest.config.js');

module.exports = {
  ...base,
  rootDir: require('node:path').resolve(__dirname, '..', '..'),
  roots: ['<rootDir>/test/production'],
  testMatch: ['<rootDir>/test/production/**/*.test.ts'],
  globalSetup: '<rootDir>/test/production/global-setup.ts',
  globalTeardown: '<rootDir>/test/production/global-teardown.ts',
  testTimeout: 300000,
  maxWorkers: 1,
  // `npm test` prints the run's one `N passed, N failed` line; this suite's failures fail CI on their own.
  reporters: ['default'],
};
