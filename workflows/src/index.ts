/** Every workflow the worker registers: one file per runbook, plus the fleet batch children. */
export { dataRestore } from './data-restore';
export { restoreDrill } from './restore-drill';
export { securityPatching } from './security-patching';
export { softwareFix } from './software-fix';
export { diskReplacement } from './disk-replacement';
export { softwareConflict } from './software-conflict';
export { hardwareSwap } from './hardware-swap';
export { patchBatch, rollbackBatch } from './engine/fleet-batches';
export type { RunMetricsSinks } from './interceptors';
export { incidentResponse } from './incident-response';
export { accountJoiner } from './account-joiner';
export { passwordReset } from './password-reset';
export { accountLeaver } from './account-leaver';
export { accountMover } from './account-mover';
