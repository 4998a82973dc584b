import { StaleVersionError, type Store } from '@runbooks/store';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeIn } from '../test-support/store';
import { AssetRegister, createAssetRegisterActivities, type AssetRegisterActivities } from './activities';

describe('the asset register (store-backed)', () => {
  let root: string;
  let store: Store;
  let register: AssetRegister;
  let activities: AssetRegisterActivities;
  const disk = { host: 'ws-1', component: 'disk' as const, model: 'WD Red 4TB', serial: 'OLD-0001', compatibleModels: ['WD Red 4TB'] };

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'asset-register-'));
    store = storeIn(root);
    register = new AssetRegister(store);
    activities = createAssetRegisterActivities(register);
    await register.write('AT-1', disk);
  });
  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes with If-Match semantics: version 0 creates only, a stale version is refused', async () => {
    await expect(register.write('AT-1', disk, 0)).rejects.toBeInstanceOf(StaleVersionError);
    const second = await register.write('AT-1', { ...disk, compatibleModels: ['WD Red 4TB', 'WD Red Plus 4TB'] }, 1);
    expect(second.version).toBe(2);
    await expect(register.write('AT-1', disk, 1)).rejects.toMatchObject({ current: 2 });
    expect(await register.write('AT-2', { ...disk, host: 'ws-2' }, 0)).toMatchObject({ tag: 'AT-2', version: 1 });
    expect((await register.list('ws-2')).map((a) => a.tag)).toEqual(['AT-2']);
  });

  it('records a swap once per run, and its undo puts the removed part back', async () => {
    const installed = { serial: 'NEW-0002', model: 'WD Red 4TB' };
    const recorded = await activities.recordAssetSwap({ tag: 'AT-1', runId: 'run-1', by: 'gus', installed });
    const retried = await activities.recordAssetSwap({ tag: 'AT-1', runId: 'run-1', by: 'gus', installed });
    expect(retried).toEqual(recorded);
    expect(await register.get('AT-1')).toMatchObject({ serial: 'NEW-0002', swaps: [{ runId: 'run-1', removed: { serial: 'OLD-0001' } }] });

    expect(await activities.revertAssetSwap({ tag: 'AT-1', runId: 'run-1' })).toMatchObject({ reverted: true });
    expect(await register.get('AT-1')).toMatchObject({ serial: 'OLD-0001', model: 'WD Red 4TB', swaps: [] });
    expect(await activities.revertAssetSwap({ tag: 'AT-1', runId: 'run-1' })).toMatchObject({ reverted: false });
  });

  it('does not undo a swap a later run has built on, and keeps swaps across a user’s write', async () => {
    await activities.recordAssetSwap({ tag: 'AT-1', runId: 'run-1', by: 'gus', installed: { serial: 'NEW-0002', model: 'WD Red 4TB' } });
    await activities.recordAssetSwap({ tag: 'AT-1', runId: 'run-2', by: 'gus', installed: { serial: 'NEW-0003', model: 'WD Red 4TB' } });
    expect(await activities.revertAssetSwap({ tag: 'AT-1', runId: 'run-1' })).toMatchObject({ reverted: false });
    await register.write('AT-1', { ...disk, serial: 'NEW-0003', compatibleModels: ['WD Red 4TB', 'Seagate IronWolf 4TB'] });
    expect((await register.get('AT-1'))?.swaps.map((s) => s.runId)).toEqual(['run-1', 'run-2']);
  });

  it('readAsset refuses an unknown tag and an asset of another host', async () => {
    await expect(activities.readAsset({ tag: 'AT-9', host: 'ws-1' })).rejects.toMatchObject({ type: 'AssetNotFound' });
    await expect(activities.readAsset({ tag: 'AT-1', host: 'ws-2' })).rejects.toMatchObject({ type: 'AssetNotInHost' });
    expect(await activities.readAsset({ tag: 'AT-1', host: 'ws-1' })).toMatchObject({ serial: 'OLD-0001', version: 1 });
  });

  it('concurrent swaps recorded on one asset are all kept (compare-and-set, no lock)', async () => {
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((id) =>
        activities.recordAssetSwap({
          tag: 'AT-1',
          runId: `run-${id}`,
          by: 'gus',
          installed: { serial: `NEW-${id}000`, model: 'WD Red 4TB' },
        }),
      ),
    );
    expect((await register.get('AT-1'))?.swaps).toHaveLength(4);
  });
});
