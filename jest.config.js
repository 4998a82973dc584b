/**
 * One jest run covers unit specs (`*.spec.ts` beside the code) and integration tests
 * (`test/src/**\/*.test.ts`). globalSetup starts one real Temporal dev server for the whole run.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/libs', '<rootDir>/workflows', '<rootDir>/activities', '<rootDir>/apps', '<rootDir>/test', '<rootDir>/bench'],
  testMatch: ['**/src/**/*.spec.ts', '<rootDir>/test/src/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@runbooks/(contracts|store|maintenance)$': '<rootDir>/libs/$1/src',
    '^@runbooks/(workflows|activities)$': '<rootDir>/$1/src',
    '^@runbooks/activities/api-surface$': '<rootDir>/activities/src/api-surface',
    '^@runbooks/(api|worker)$': '<rootDir>/apps/$1/src',
  },
  globalSetup: '<rootDir>/test/src/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/src/harness/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/src/harness/summary-reporter.js'],
};
