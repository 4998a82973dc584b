// The local apt repository is also the demo's (apps/worker/src/demo/conflict-fixture.ts), so it lives with the hosts code.
export { createAptRepository, type AptPackage as TestPackage, type AptRepositoryFixture } from '../hosts/apt-repository';
