export * from './activities';
export * from './calendar-store';
// Pure window logic lives in libs/maintenance (the API uses it too); re-exported for the worker's callers.
export * from '@runbooks/maintenance';
