import type { SecretDefinition } from '@runbooks/contracts';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SecretResolver, type SecretsConfig } from '../secrets/resolve-secret';

/**
 * The payload codec key of the tests (public, like the demo tokens): every test worker, client and
 * API encrypts with it, and histories recorded for the replay tests can be read with it.
 */
export const TEST_CODEC_KEY_REF = 'secret:codec/test';
export const TEST_CODEC_KEY = 'dGVzdC1vbmx5LXBheWxvYWQta2V5LTMyLWJ5dGVzISE=';
const TEST_CODEC_KEY_VARIABLE = 'RUNBOOKS_SECRET_TEST_CODEC_KEY';
process.env[TEST_CODEC_KEY_VARIABLE] = TEST_CODEC_KEY;
const testCodecKeyDefinition: SecretDefinition = {
  name: 'codec/test',
  description: 'The payload codec key of the tests',
  source: { backend: 'env', variable: TEST_CODEC_KEY_VARIABLE },
  runbooks: [],
  roles: [],
};

/**
 * A secrets configuration in a temp folder for tests (the tests' codec key always defined): a definitions file rewritten (atomically,
 * as an operator's edit would be) whenever a definition is added, and the secrets folder.
 */
export class TestSecrets {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'runbooks-secrets-'));
  readonly config: SecretsConfig = { catalogFile: path.join(this.dir, 'secrets.json'), secretsDir: path.join(this.dir, 'secrets') };
  private readonly definitions = new Map<string, SecretDefinition>();

  constructor(definitions: SecretDefinition[] = []) {
    mkdirSync(this.config.secretsDir);
    for (const d of [testCodecKeyDefinition, ...definitions]) this.definitions.set(d.name, d);
    this.write();
  }

  resolver(): SecretResolver {
    return new SecretResolver(this.config);
  }

  /** Adds or replaces a definition. */
  define(definition: SecretDefinition): void {
    this.definitions.set(definition.name, definition);
    this.write();
  }

  /** Lets the secret `name` open one more repository. */
  allowRepository(name: string, url: string): void {
    const d = this.definitions.get(name);
    if (!d) throw new Error(`no test secret ${name}`);
    this.define({ ...d, repositories: [...(d.repositories ?? []), url] });
  }

  /** Writes a file secret under the secrets folder; returns its absolute path. */
  writeFileSecret(relative: string, content: string): string {
    const file = path.join(this.config.secretsDir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private write(): void {
    const tmp = `${this.config.catalogFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ secrets: [...this.definitions.values()] }));
    renameSync(tmp, this.config.catalogFile);
  }
}
