import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  RUNBOOKS,
  launchCredentialRefusal,
  parseAssertionKeys,
  secretCatalogSchema,
  secretNameOf,
  secretRefSchema,
  secretUseRefusal,
  type AssertionKey,
  type LaunchCredential,
  type SecretCatalogContent,
  type SecretDefinition,
  type SecretRef,
  type SecretSource,
  type SecretUse,
} from '@runbooks/contracts';
import { readFile, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CachedJsonFile } from '../files/cached-json-file';
import { readVaultKv2, type VaultConfig } from './vault-kv2';

export const SECRET_UNAVAILABLE = 'SecretUnavailable';
/** The run may not use the secret it names (runbook, role or repository outside its definition). */
export const SECRET_NOT_ALLOWED = 'SecretNotAllowed';

export interface SecretsConfig {
  /** The secret definitions (JSON `{ secrets: [...] }`): names, backends, who may use each. */
  catalogFile: string;
  /** Where `file` secrets live; nothing outside it is read. */
  secretsDir: string;
  /** The KV v2 secret store `vault` secrets are read from; without it they are unavailable. */
  vault?: VaultConfig;
  /**
   * The keys that verify the API's signed launches (RUNBOOKS_ASSERTION_KEYS) and their maximum age:
   * with them, a secret resolved for a run is checked against its launcher's signed roles.
   */
  assertions?: { keys: string; maxAgeMs: number };
}

/**
 * The secrets configuration from the environment: `RUNBOOKS_SECRETS_FILE` (default
 * `<dataDir>/secrets.json`), `RUNBOOKS_SECRETS_DIR` (`<dataDir>/secrets`), and, for a KV v2 store,
 * `RUNBOOKS_VAULT_ADDR` with `RUNBOOKS_VAULT_TOKEN` or `RUNBOOKS_VAULT_TOKEN_FILE`,
 * `RUNBOOKS_VAULT_MOUNT` (secret) and `RUNBOOKS_VAULT_NAMESPACE`.
 */
export function secretsConfigFromEnv(env: NodeJS.ProcessEnv = process.env, dataDir = env.RUNBOOKS_DATA_DIR ?? os.tmpdir()): SecretsConfig {
  const address = env.RUNBOOKS_VAULT_ADDR || undefined;
  return {
    catalogFile: env.RUNBOOKS_SECRETS_FILE || path.join(dataDir, 'secrets.json'),
    secretsDir: env.RUNBOOKS_SECRETS_DIR || path.join(dataDir, 'secrets'),
    vault: address
      ? {
          address,
          token: env.RUNBOOKS_VAULT_TOKEN || undefined,
          tokenFile: env.RUNBOOKS_VAULT_TOKEN_FILE || undefined,
          mount: env.RUNBOOKS_VAULT_MOUNT || 'secret',
          namespace: env.RUNBOOKS_VAULT_NAMESPACE || undefined,
        }
      : undefined,
  };
}

/** The secret definitions file, re-read when it changes; a missing file defines no secret. */
export class SecretCatalog {
  private readonly json: CachedJsonFile<SecretCatalogContent>;

  constructor(readonly file: string) {
    this.json = new CachedJsonFile(
      file,
      (json) => {
        if (json === undefined) return { secrets: [] };
        const parsed = secretCatalogSchema.safeParse(json);
        if (!parsed.success) {
          const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
          throw unavailable(`the secrets configuration ${file} is invalid: ${where}`);
        }
        return parsed.data;
      },
      (message) => unavailable(`the secrets configuration ${file} is ${message}`),
    );
  }

  async find(name: string): Promise<SecretDefinition | undefined> {
    return (await this.json.read()).secrets.find((s) => s.name === name);
  }
}

/**
 * Resolves `secret:<name>` references: finds the definition, checks that this use is one it
 * allows (the runbook of the running activity, the repository), then reads the value from the one
 * backend it names. Errors name the secret and the reason, never a value: not even the reference
 * when it is malformed, since a malformed reference may be a pasted secret.
 */
export class SecretResolver {
  readonly catalog: SecretCatalog;
  private readonly assertionKeys?: AssertionKey[];

  constructor(private readonly config: SecretsConfig) {
    this.catalog = new SecretCatalog(config.catalogFile);
    this.assertionKeys = config.assertions ? parseAssertionKeys(config.assertions.keys) : undefined;
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): SecretResolver {
    return new SecretResolver(secretsConfigFromEnv(env));
  }

  /**
   * Resolves a secret a run names, for that run: with assertion keys configured, the run's launch
   * must be one the API signed (a run started directly through Temporal has no such signature), and
   * the definition's roles are checked against the launcher's signed roles, now, not only at launch
   * (the definition may have changed since). Refused before the value is read.
   */
  async resolveForRun(ref: SecretRef, launch: LaunchCredential | undefined, use: SecretUse = {}): Promise<string> {
    if (!this.assertionKeys || !this.config.assertions) return this.resolve(ref, use);
    const workflowType = workflowTypeOfCurrentActivity();
    const refusal = !launch
      ? 'the run passed no launch credential with its secret reference'
      : launchCredentialRefusal(this.assertionKeys, this.config.assertions.maxAgeMs, workflowType ?? '', launch);
    if (refusal || !launch?.assertion)
      throw ApplicationFailure.nonRetryable(`the run may not use a secret: ${refusal}`, SECRET_NOT_ALLOWED);
    return this.resolve(ref, { ...use, roles: launch.assertion.principal.roles });
  }

  async resolve(ref: SecretRef, use: SecretUse = {}): Promise<string> {
    if (!secretRefSchema.safeParse(ref).success) {
      throw unavailable('the secret reference is malformed (expected secret:<name> naming a configured secret)');
    }
    const name = secretNameOf(ref);
    const definition = await this.catalog.find(name);
    if (!definition) throw unavailable(`no secret named ${name} is configured`);
    const refusal = secretUseRefusal(definition, { runbook: runbookOfCurrentActivity(), ...use });
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, SECRET_NOT_ALLOWED);
    const value = await this.read(name, definition.source);
    if (!value) throw unavailable(`secret ${name} is empty`);
    return value;
  }

  private async read(name: string, source: SecretSource): Promise<string> {
    switch (source.backend) {
      case 'env': {
        const value = process.env[source.variable];
        if (!value) throw unavailable(`secret ${name}: environment variable ${source.variable} is not set on the worker (or is empty)`);
        return value;
      }
      case 'file':
        return (await this.readFileInside(name, source.file)).replace(/\r?\n$/, '');
      case 'vault': {
        if (!this.config.vault) throw unavailable(`secret ${name} is kept in a secret store, and none is configured (RUNBOOKS_VAULT_ADDR)`);
        return readVaultKv2(this.config.vault, source.path, source.key, (message) => unavailable(`secret ${name}: ${message}`));
      }
    }
  }

  /** Reads `relative` under the secrets folder, refusing anything whose real path (symlinks resolved) lies outside it. */
  private async readFileInside(name: string, relative: string): Promise<string> {
    try {
      const root = await realpath(this.config.secretsDir);
      const real = await realpath(path.join(root, relative));
      if (!real.startsWith(root + path.sep)) throw unavailable(`secret ${name}: its file leads outside the secrets folder`);
      if (!(await stat(real)).isFile()) throw unavailable(`secret ${name}: its file is not a regular file`);
      return await readFile(real, 'utf8');
    } catch (error) {
      if (error instanceof ApplicationFailure) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? 'read error';
      throw unavailable(`secret ${name}: file ${relative} in the secrets folder cannot be read on the worker (${code})`);
    }
  }
}

/**
 * The runbook whose run called the running activity, from what Temporal says (never the input):
 * the workflow type, or for the engine's child workflows (batches of a rollout) the run id their
 * workflow id starts with.
 */
function workflowTypeOfCurrentActivity(): string | undefined {
  try {
    return Context.current().info.workflowType;
  } catch {
    return undefined; // called outside an activity
  }
}

function runbookOfCurrentActivity(): string | undefined {
  let info: { workflowType?: string; workflowExecution?: { workflowId: string } };
  try {
    info = Context.current().info;
  } catch {
    return undefined; // called outside an activity (unit tests, scripts)
  }
  const runbook =
    RUNBOOKS.find((r) => r.workflowType === info.workflowType) ??
    RUNBOOKS.find((r) => info.workflowExecution?.workflowId.startsWith(`${r.name}-`));
  // A workflow of no runbook gets a name no definition lists: refused.
  return runbook?.name ?? `(workflow type ${info.workflowType ?? 'unknown'})`;
}

function unavailable(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, SECRET_UNAVAILABLE);
}
