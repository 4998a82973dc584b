import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SecretDefinition } from '@runbooks/contracts';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { TestSecrets } from '../test-support/secrets';
import { SECRET_NOT_ALLOWED, SECRET_UNAVAILABLE, SecretResolver } from './resolve-secret';

const VARIABLE = 'RUNBOOKS_SECRET_UNIT_TEST';
const VALUE = 'Zebra-secret-value-91c2';

const restore = (name: string, source: SecretDefinition['source'], more: Partial<SecretDefinition> = {}): SecretDefinition => ({
  name,
  source,
  runbooks: ['data-restore'],
  roles: ['technician'],
  ...more,
});

async function failureOf(promise: Promise<unknown>, type = SECRET_UNAVAILABLE): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type, nonRetryable: true });
  expect(JSON.stringify({ message: (error as Error).message, details: (error as ApplicationFailure).details })).not.toContain(VALUE);
  return error as ApplicationFailure;
}

describe('SecretResolver', () => {
  let secrets: TestSecrets;
  let resolver: SecretResolver;
  beforeEach(() => {
    secrets = new TestSecrets();
    resolver = secrets.resolver();
  });
  afterEach(() => {
    delete process.env[VARIABLE];
    secrets.remove();
  });

  it('reads an env secret from its RUNBOOKS_SECRET_ variable', async () => {
    secrets.define(restore('backup/env', { backend: 'env', variable: VARIABLE }));
    process.env[VARIABLE] = VALUE;

    await expect(resolver.resolve('secret:backup/env')).resolves.toBe(VALUE);
  });

  it('reads a file secret under the secrets folder, dropping one trailing newline', async () => {
    secrets.define(restore('backup/file', { backend: 'file', file: 'backup/file' }));
    secrets.writeFileSecret('backup/file', `${VALUE}\n`);

    await expect(resolver.resolve('secret:backup/file')).resolves.toBe(VALUE);
  });

  it('refuses the old env: and file: forms, and a pasted value, without echoing them', async () => {
    for (const ref of ['env:PATH', 'file:/etc/shadow', VALUE]) {
      const failure = await failureOf(resolver.resolve(ref));
      expect(failure.message).toMatch(/malformed/);
      expect(failure.message).not.toContain(ref);
    }
  });

  it('refuses a name the configuration does not define', async () => {
    const failure = await failureOf(resolver.resolve('secret:backup/nope'));

    expect(failure.message).toContain('no secret named backup/nope');
  });

  it('refuses a file secret whose symlink leads outside the secrets folder', async () => {
    const outside = path.join(secrets.dir, 'outside');
    writeFileSync(outside, VALUE);
    mkdirSync(path.join(secrets.config.secretsDir, 'backup'));
    symlinkSync(outside, path.join(secrets.config.secretsDir, 'backup', 'link'));
    secrets.define(restore('backup/link', { backend: 'file', file: 'backup/link' }));

    const failure = await failureOf(resolver.resolve('secret:backup/link'));

    expect(failure.message).toContain('outside the secrets folder');
  });

  it('refuses a definition whose env variable lacks the reserved prefix or whose file climbs out', async () => {
    secrets.define(restore('backup/path', { backend: 'env', variable: 'PATH' }));

    const failure = await failureOf(resolver.resolve('secret:backup/path'));

    expect(failure.message).toMatch(/secrets configuration .* is invalid: secrets\.\d+\.source\.variable/);
  });

  it('refuses a repository the password is not defined for: a repository made with a guessed password tells nothing', async () => {
    secrets.define(restore('backup/bound', { backend: 'env', variable: VARIABLE }, { repositories: ['/srv/backups/projects'] }));
    secrets.define(restore('backup/unbound', { backend: 'env', variable: VARIABLE }));
    process.env[VARIABLE] = VALUE;

    await expect(resolver.resolve('secret:backup/bound', { repositoryUrl: '/srv/backups/projects' })).resolves.toBe(VALUE);
    const other = await failureOf(resolver.resolve('secret:backup/bound', { repositoryUrl: '/tmp/guess' }), SECRET_NOT_ALLOWED);
    expect(other.message).toContain('not the password of this repository');
    const unbound = await failureOf(resolver.resolve('secret:backup/unbound', { repositoryUrl: '/tmp/guess' }), SECRET_NOT_ALLOWED);
    expect(unbound.message).toContain('names no repository');
  });

  it("checks the runbook of the activity's own workflow, as Temporal reports it", async () => {
    secrets.define(restore('backup/env', { backend: 'env', variable: VARIABLE }));
    process.env[VARIABLE] = VALUE;
    const inWorkflow = (workflowType: string, workflowId: string) =>
      new MockActivityEnvironment({ workflowType, workflowExecution: { workflowId, runId: 'r' } }).run(() =>
        resolver.resolve('secret:backup/env'),
      );

    await expect(inWorkflow('dataRestore', 'data-restore-1')).resolves.toBe(VALUE);
    const failure = await failureOf(inWorkflow('securityPatching', 'security-patching-1'), SECRET_NOT_ALLOWED);
    expect(failure.message).toContain('may not be used by the runbook security-patching');
    // A child workflow of the engine acts for the run its id starts with.
    await failureOf(inWorkflow('patchBatch', 'security-patching-1/wave-1/batch-0'), SECRET_NOT_ALLOWED);
  });

  describe('vault backend (KV v2 read endpoint)', () => {
    let server: http.Server;
    let seen: { url?: string; token?: string }[];
    beforeEach(async () => {
      seen = [];
      // The KV v2 read endpoint as documented: GET /v1/<mount>/data/<path>, X-Vault-Token, { data: { data, metadata } }.
      server = http.createServer((req, res) => {
        seen.push({ url: req.url, token: req.headers['x-vault-token'] as string | undefined });
        if (req.headers['x-vault-token'] !== 'good-token') return void res.writeHead(403).end('{"errors":["permission denied"]}');
        if (req.method === 'GET' && req.url === '/v1/kv/data/runbooks/backup') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ data: { data: { password: VALUE }, metadata: { version: 3 } } }));
        }
        res.writeHead(404).end('{"errors":[]}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const vaultResolver = (token: string) =>
      new SecretResolver({
        ...secrets.config,
        vault: { address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token, mount: 'kv' },
      });

    it('reads the key of the latest version with the configured token', async () => {
      secrets.define(restore('backup/vault', { backend: 'vault', path: 'runbooks/backup', key: 'password' }));

      await expect(vaultResolver('good-token').resolve('secret:backup/vault')).resolves.toBe(VALUE);
      expect(seen).toEqual([{ url: '/v1/kv/data/runbooks/backup', token: 'good-token' }]);
    });

    it('names a refused token, a missing secret and a missing key, never the token', async () => {
      secrets.define(restore('backup/vault', { backend: 'vault', path: 'runbooks/backup', key: 'password' }));
      secrets.define(restore('backup/gone', { backend: 'vault', path: 'runbooks/gone', key: 'password' }));
      secrets.define(restore('backup/nokey', { backend: 'vault', path: 'runbooks/backup', key: 'other' }));

      const refused = await failureOf(vaultResolver('bad-token').resolve('secret:backup/vault'));
      expect(refused.message).toContain('refused to read kv/runbooks/backup');
      expect(refused.message).not.toContain('bad-token');
      expect((await failureOf(vaultResolver('good-token').resolve('secret:backup/gone'))).message).toContain('no secret kv/runbooks/gone');
      expect((await failureOf(vaultResolver('good-token').resolve('secret:backup/nokey'))).message).toContain('no string key other');
    });

    it('says so when a secret lives in a store and none is configured', async () => {
      secrets.define(restore('backup/vault', { backend: 'vault', path: 'runbooks/backup', key: 'password' }));

      const failure = await failureOf(resolver.resolve('secret:backup/vault'));

      expect(failure.message).toContain('RUNBOOKS_VAULT_ADDR');
    });
  });
});
