export * from './activities';
export {
  CommandHostDriver,
  DEFAULT_COMMAND_TIMEOUTS,
  type CommandHostDriverOptions,
  type CommandResult,
  type CommandSession,
  type CommandSnapshotFile,
  type CommandTimeouts,
  type CommandTransport,
} from './command-driver';
export type { HostDriver } from './driver';
export { HostFailureType } from './failures';
export * from './inventory-store';
export * from './lab-fleet';
export { HostLocks, OperationLedger, snapshotIdFor, type LedgerEntry, type LedgerOp } from './ledger';
export * from './local';
export * from './os-commands';
export * from './ssh';
export { ConflictCommands, parseDpkgLog } from './conflict-commands';
export { ConflictReproductionStore, REPRODUCTION_REFUSED } from './conflict-reproductions';
export { createAptRepository, type AptPackage, type AptRepositoryFixture } from './apt-repository';
