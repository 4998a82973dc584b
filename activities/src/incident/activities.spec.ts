import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '@runbooks/store';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostFailureType } from '../hosts/failures';
import { InventoryStore } from '../hosts/inventory-store';
import { storeIn } from '../test-support/store';
import { createIncidentActivities, type IncidentActivities } from './activities';
import { IncidentCatalogStore } from './catalog-store';

let dir: string;
let store: Store;
let catalogs: IncidentCatalogStore;
let acts: IncidentActivities;

const marker = () => path.join(dir, 'switched');
const failover = () => ({ host: 'erp-switch', apply: `echo standby >> ${marker()}`, undo: `echo primary >> ${marker()}` });
const erp = () => ({
  name: 'erp',
  port: 443,
  primary: { address: '192.0.2.10' },
  standby: { address: '192.0.2.11' },
  failover: failover(),
});

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'incident-actions-'));
  store = storeIn(dir);
  const inventory = new InventoryStore(store);
  await inventory.replace({ hosts: [{ name: 'erp-switch', address: '127.0.0.1', osFamily: 'debian', driver: 'local', tags: [] }] });
  catalogs = new IncidentCatalogStore(store);
  await catalogs.replace({ services: [erp()] });
  acts = createIncidentActivities({ store, inventory, mailer: { sendMail: () => Promise.reject(new Error('no mail in this test')) } });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('incident actions are checked against the catalogue as it is when they run', () => {
  it('runs a failover the catalogue still lists', async () => {
    await acts.runIncidentAction({ host: 'erp-switch', command: failover().apply, what: 'failover:erp', idempotencyKey: 'k1' });
    expect(readFileSync(marker(), 'utf8')).toBe('standby\n');
  });

  it('refuses, without running it, a failover an admin removed from the catalogue after the run read it', async () => {
    await catalogs.replace({ services: [{ ...erp(), failover: undefined }] });

    const failure = await acts
      .runIncidentAction({ host: 'erp-switch', command: failover().apply, what: 'failover:erp', idempotencyKey: 'k2' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(HostFailureType.invalidInput);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).message).toContain('no longer');
    expect(() => readFileSync(marker(), 'utf8')).toThrow(); // nothing ran on the host
  });

  it('still undoes what the run did, whatever the catalogue says now', async () => {
    await catalogs.replace({ services: [] });
    await acts.runIncidentAction({
      host: 'erp-switch',
      command: failover().undo,
      what: 'undo failover:erp',
      idempotencyKey: 'k3',
      undo: true,
    });
    expect(readFileSync(marker(), 'utf8')).toBe('primary\n');
  });
});
