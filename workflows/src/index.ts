/** Every runbook workflow the worker registers. One file per runbook. */
export { dataRestore } from './data-restore';
