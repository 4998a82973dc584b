export * from './location';
export * from './repositories';
export * from './run-hosts';
export { Store, type StoreDb, type StoreTransaction } from './store';
