import { ConflictException, Inject, Injectable, InternalServerErrorException } from '@nestjs/common';
import { HostFailureType, InventoryStore } from '@runbooks/activities';
import { selectHosts, type Host, type Inventory, type RunbookDefinition } from '@runbooks/contracts';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ApiConfig } from '../config';
import { RequestValidationError } from '../http/errors';
import { API_CONFIG } from '../tokens';
import type { InventoryPage, InventoryReplaced, ListInventoryQuery } from './inventory.routes';

/** The process's one store of the inventory file (it caches the parsed file by its version). */
export const inventoryStoreProvider = {
  provide: InventoryStore,
  inject: [API_CONFIG],
  useFactory: (config: ApiConfig): InventoryStore => new InventoryStore(config.inventoryFile),
};

interface FileVersion {
  /** Changes whenever the file is replaced; '' when there is no file. */
  tag: string;
  updatedAt: string | null;
}

/** Reads and replaces the host inventory file through InventoryStore. */
@Injectable()
export class InventoryService {
  /** PUTs of this process one after the other, so the updatedAt a PUT answers is the version it wrote. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: InventoryStore,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async list(query: ListInventoryQuery): Promise<InventoryPage> {
    // The version is taken before the read: if a PUT lands in between, the token names the older
    // version and the next page is a 409, never a page of another inventory.
    const version = await this.version();
    const hosts = filterHosts((await this.read()).hosts, query);
    const filters = filtersTag(query);
    const offset = query.pageToken === undefined ? 0 : openPageToken(query.pageToken, filters, version.tag, hosts.length);
    const page = hosts.slice(offset, offset + query.pageSize);
    const end = offset + page.length;
    return {
      hosts: page,
      total: hosts.length,
      nextPageToken: end < hosts.length ? sealPageToken(end, filters, version.tag) : null,
      updatedAt: version.updatedAt,
    };
  }

  /** A run naming hosts the inventory lacks (its definition says where: admission.hostSelectors) is refused now, not after it started. */
  async refuseUnknownHosts(runbook: RunbookDefinition, input: unknown): Promise<void> {
    const selectors = runbook.admission?.hostSelectors?.(input as never) ?? [];
    if (selectors.length === 0) return;
    const hosts = (await this.store.read().catch(() => undefined))?.hosts;
    if (!hosts) return; // an unreadable inventory is the run's to report
    const issues = selectors.flatMap(({ field, selector }) =>
      selectHosts(hosts, selector).unknownNames.map((name) => ({
        path: ['input', field, 'names', selector.names?.indexOf(name) ?? 0],
        message: `${name} is not in the inventory (GET /v1/inventory lists the hosts)`,
      })),
    );
    if (issues.length > 0) throw new RequestValidationError('request body', issues);
  }

  /** Validated by the route already; the store validates again and writes the file atomically. */
  replace(inventory: Inventory): Promise<InventoryReplaced> {
    const write = this.writes.then(async () => {
      const written = await this.store.replace(inventory);
      const version = await this.version();
      return { hosts: written.hosts.length, updatedAt: version.updatedAt ?? new Date().toISOString() };
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async read(): Promise<Inventory> {
    try {
      return await this.store.read();
    } catch (error) {
      if (error instanceof ApplicationFailure && error.type === HostFailureType.inventoryInvalid) {
        // The file on the server is broken (edited by hand?): a server problem, logged with its path.
        const details = error.details?.[0] as { problems?: { path: string; message: string }[] } | undefined;
        const problems = (details?.problems ?? []).slice(0, 5).map((p) => `${p.path}: ${p.message}`);
        throw new InternalServerErrorException(
          `the stored inventory is invalid${problems.length ? ` (${problems.join('; ')})` : ''}; an admin must PUT a valid one`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private async version(): Promise<FileVersion> {
    try {
      const s = await stat(this.config.inventoryFile);
      return { tag: `${s.mtimeMs}:${s.size}:${s.ino}`, updatedAt: s.mtime.toISOString() };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { tag: '', updatedAt: null };
      throw error;
    }
  }
}

/** The hosts matching the filters, in inventory order. */
export function filterHosts(hosts: readonly Host[], filters: { tag?: string; name?: string }): Host[] {
  const name = filters.name?.toLowerCase();
  return hosts.filter(
    (h) => (filters.tag === undefined || h.tags.includes(filters.tag)) && (name === undefined || h.name.toLowerCase().includes(name)),
  );
}

function filtersTag(query: ListInventoryQuery): string {
  return shortHash(JSON.stringify([query.tag ?? null, query.name?.toLowerCase() ?? null]));
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

/** An offset, bound to the filters and the inventory version it continues. */
export function sealPageToken(offset: number, filters: string, version: string): string {
  return Buffer.from(JSON.stringify({ o: offset, f: filters, v: shortHash(version) })).toString('base64url');
}

function openPageToken(token: string, filters: string, version: string, total: number): number {
  let sealed: unknown;
  try {
    sealed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken();
  }
  const { o, f, v } = (sealed ?? {}) as { o?: unknown; f?: unknown; v?: unknown };
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || typeof f !== 'string' || typeof v !== 'string') {
    throw invalidPageToken();
  }
  if (f !== filters) throw invalidPageToken('belongs to a listing with other filters');
  if (v !== shortHash(version)) {
    throw new ConflictException('the inventory changed since this page token was issued; list it again from the first page');
  }
  if (o > total) throw invalidPageToken();
  return o;
}

function invalidPageToken(reason = 'is not a nextPageToken of this listing'): RequestValidationError {
  return new RequestValidationError('query', [{ path: ['pageToken'], message: reason }]);
}
