import path from 'node:path';
import { describeLocation, storeLocationFromEnv } from './location';
import { Store } from './store';

/**
 * `npm run migrate`: brings the store named by the environment (RUNBOOKS_DATABASE_URL, or the
 * SQLite file under RUNBOOKS_DATA_DIR / data/) to the latest migration. The API and the worker do
 * the same at start; this is for deployments that migrate once before starting replicas.
 */
async function main(): Promise<void> {
  const location = storeLocationFromEnv(process.env, path.resolve(__dirname, '..', '..', '..', 'data'));
  const store = Store.open(location);
  try {
    const applied = await store.migrate();
    console.log(`${describeLocation(location)}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(`migration failed: ${(error as Error).message}`);
  process.exit(1);
});
