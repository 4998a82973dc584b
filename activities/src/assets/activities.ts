import { ApplicationFailure } from '@temporalio/common';
import { assetSchema, assetWriteSchema, type Asset, type AssetSwap, type AssetWrite } from '@runbooks/contracts';
import { StaleVersionError, type AssetRow, type Store } from '@runbooks/store';

/** ApplicationFailure types of the asset register's activities. */
export const AssetFailureType = {
  notFound: 'AssetNotFound',
  /** The asset is in another host than the run names. */
  wrongHost: 'AssetNotInHost',
} as const;

/** An asset with its version (the ETag of GET /v1/assets/{tag}) and when it last changed. */
export type AssetRecord = Asset & { version: number; updatedAt: string };

export interface RecordAssetSwapInput {
  tag: string;
  runId: string;
  /** Who did the hands-on part (the task's completer). */
  by: string;
  installed: { serial: string; model: string };
}

export interface AssetRegisterActivities {
  /** The asset, checked to be in `host`. */
  readAsset(input: { tag: string; host: string }): Promise<AssetRecord>;
  /** Records the swap: the installed part becomes the asset's part. Once per run: a retry finds it recorded. */
  recordAssetSwap(input: RecordAssetSwapInput): Promise<{ version: number; swap: AssetSwap }>;
  /** Puts the part the run's swap replaced back into the register (the undo of recordAssetSwap). */
  revertAssetSwap(input: { tag: string; runId: string }): Promise<{ reverted: boolean; version: number }>;
}

/**
 * The asset register over the store: users write assets (with their compatible models) through the
 * API, runs record swaps. Every change is a compare-and-set on the asset's version, retried after a
 * fresh read when another writer got in first, so no lock is needed on any replica.
 */
export class AssetRegister {
  constructor(private readonly store: Store) {}

  async list(host?: string): Promise<AssetRecord[]> {
    return (await this.store.assets.list(host)).map(parse);
  }

  async get(tag: string): Promise<AssetRecord | undefined> {
    const row = await this.store.assets.get(tag);
    return row ? parse(row) : undefined;
  }

  /** A user's write: the swaps runs recorded stay. With `expected`, only if the asset is still at that version (0: new). */
  async write(tag: string, write: AssetWrite, expected?: number): Promise<AssetRecord> {
    const valid = assetWriteSchema.parse(write);
    for (;;) {
      const current = await this.get(tag);
      if (expected !== undefined && expected !== (current?.version ?? 0)) {
        throw new StaleVersionError(`asset ${tag}`, expected, current?.version ?? 0);
      }
      const asset: Asset = { ...valid, tag, swaps: current?.swaps ?? [] };
      try {
        // Conditional on what was read, so a swap a run records meanwhile is never lost.
        return parse(await this.store.assets.put(tag, asset.host, JSON.stringify(asset), current?.version ?? 0));
      } catch (error) {
        // Without If-Match the write is unconditional: another writer got in first, so read again.
        if (!(error instanceof StaleVersionError) || expected !== undefined) throw error;
      }
    }
  }

  /** Applies `change` to the asset's current body, again after a fresh read if another writer got in first. */
  async change<T>(tag: string, change: (asset: Asset) => { asset?: Asset; result: T }): Promise<{ version: number; result: T }> {
    for (;;) {
      const row = await this.store.assets.get(tag);
      if (!row) throw ApplicationFailure.nonRetryable(`the asset register has no asset ${tag}`, AssetFailureType.notFound);
      const version = row.version;
      const { asset: next, result } = change(assetSchema.parse(JSON.parse(row.body)));
      if (!next) return { version, result };
      try {
        const row = await this.store.assets.put(tag, next.host, JSON.stringify(next), version);
        return { version: row.version, result };
      } catch (error) {
        if (!(error instanceof StaleVersionError)) throw error;
      }
    }
  }
}

function parse(row: AssetRow): AssetRecord {
  return { ...assetSchema.parse(JSON.parse(row.body)), version: row.version, updatedAt: row.updatedAt };
}

export function createAssetRegisterActivities(register: AssetRegister): AssetRegisterActivities {
  return {
    async readAsset({ tag, host }) {
      const asset = await register.get(tag);
      if (!asset) throw ApplicationFailure.nonRetryable(`the asset register has no asset ${tag}`, AssetFailureType.notFound);
      if (asset.host !== host) {
        throw ApplicationFailure.nonRetryable(`asset ${tag} is in ${asset.host}, not in ${host}`, AssetFailureType.wrongHost);
      }
      return asset;
    },

    async recordAssetSwap({ tag, runId, by, installed }) {
      const { version, result } = await register.change(tag, (asset) => {
        const recorded = asset.swaps.find((s) => s.runId === runId);
        if (recorded) return { result: recorded };
        const swap: AssetSwap = {
          runId,
          at: new Date().toISOString(),
          by,
          removed: { serial: asset.serial, model: asset.model },
          installed,
        };
        return { asset: { ...asset, serial: installed.serial, model: installed.model, swaps: [...asset.swaps, swap] }, result: swap };
      });
      return { version, swap: result };
    },

    async revertAssetSwap({ tag, runId }) {
      const { version, result } = await register.change(tag, (asset) => {
        const swap = asset.swaps.find((s) => s.runId === runId);
        // Only the latest swap can be taken back: a later one put another part in since.
        if (!swap || asset.swaps.at(-1) !== swap) return { result: false };
        return {
          asset: { ...asset, serial: swap.removed.serial, model: swap.removed.model, swaps: asset.swaps.slice(0, -1) },
          result: true,
        };
      });
      return { reverted: result, version };
    },
  };
}
