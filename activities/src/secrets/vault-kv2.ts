import { readFile } from 'node:fs/promises';

/** A HashiCorp Vault (or OpenBao) server's KV version 2 secrets engine. */
export interface VaultConfig {
  /** e.g. https://vault.internal:8200 */
  address: string;
  /** The token, or the file holding it (e.g. written by a Vault agent); the file is re-read on every use. */
  token?: string;
  tokenFile?: string;
  /** The KV v2 mount (default `secret`). */
  mount: string;
  /** Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. */
  namespace?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

/**
 * Reads one key of the latest version of a KV v2 secret: `GET /v1/<mount>/data/<path>` with the
 * token in `X-Vault-Token`; the answer is `{ data: { data: { <key>: value }, metadata } }`.
 * Failures are made by `fail` from a message that names the path and key, never a value or the token.
 */
export async function readVaultKv2(
  config: VaultConfig,
  secretPath: string,
  key: string,
  fail: (message: string) => Error,
): Promise<string> {
  const token = config.token ?? (config.tokenFile ? (await readFile(config.tokenFile, 'utf8').catch(() => '')).trim() : '');
  if (!token) throw fail('no token for the secret store (RUNBOOKS_VAULT_TOKEN or RUNBOOKS_VAULT_TOKEN_FILE)');
  const url = new URL(`v1/${encodePath(config.mount)}/data/${encodePath(secretPath)}`, config.address.replace(/\/*$/, '/'));
  const where = `${config.mount}/${secretPath}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { 'X-Vault-Token': token, ...(config.namespace ? { 'X-Vault-Namespace': config.namespace } : {}) },
      signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
      redirect: 'error',
    });
  } catch (error) {
    throw fail(`the secret store at ${url.origin} cannot be reached (${(error as Error).name})`);
  }
  if (response.status === 404) throw fail(`the secret store has no secret ${where}`);
  if (response.status === 403) throw fail(`the secret store refused to read ${where} with the configured token`);
  if (!response.ok) throw fail(`the secret store answered ${response.status} when reading ${where}`);
  const body = (await response.json().catch(() => undefined)) as { data?: { data?: Record<string, unknown> | null } } | undefined;
  const value = body?.data?.data?.[key];
  if (typeof value !== 'string') throw fail(`the secret ${where} in the secret store has no string key ${key}`);
  return value;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}
