export * from './activities';
export * from './pre-approval-store';
