export * from './location';
export * from './repositories';
export { Store, type StoreDb, type StoreTransaction } from './store';
export * from './asset-register';
