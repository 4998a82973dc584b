export * from './known-host-keys';
export * from './location';
export * from './repositories';
export * from './knowledge-base';
export * from './run-hosts';
export { Store, type StoreDb, type StoreTransaction } from './store';
export * from './incident-catalog';
export * from './accounts';
export * from './asset-register';
