import { loadApiConfig } from '@runbooks/api';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Store } from '@runbooks/store';
import request from 'supertest';
import { auth, repoRoot, startTestApi, type TestApi } from './app';

let api: TestApi;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'api-inventory-'));
  api = await startTestApi();
});
afterAll(async () => {
  await api?.app.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function host(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, address: `${name}.example.test`, osFamily: 'lab', driver: 'lab', tags: ['lab'], ...overrides };
}

const sshHost = (name: string, ssh: Record<string, unknown> = { user: 'patcher', privateKeyRef: 'secret:ssh/patcher' }) =>
  host(name, { osFamily: 'debian', driver: 'ssh', tags: ['prod', 'web'], port: 2222, ssh });

function put(body: unknown, who: Parameters<typeof auth>[0] = 'ada') {
  return request(api.server)
    .put('/v1/inventory')
    .set(auth(who))
    .send(body as object);
}

function list(query = '', who: Parameters<typeof auth>[0] = 'sam') {
  return request(api.server).get(`/v1/inventory${query}`).set(auth(who));
}

const names = (body: { hosts: { name: string }[] }) => body.hosts.map((h) => h.name);
const issuePaths = (body: { issues?: { path: string }[] }) => (body.issues ?? []).map((i) => i.path);

describe('PUT /v1/inventory', () => {
  it('lets an admin replace the inventory; GET then returns it to any principal, with the version PUT answered as ETag', async () => {
    const inventory = { hosts: [host('lab-1', { tags: ['lab', 'canary'] }), sshHost('web-1'), host('bare-1', { tags: undefined })] };
    const before = Date.now();
    const res = await put(inventory).expect(200);
    expect(res.body).toEqual({ hosts: 3, updatedAt: expect.any(String) });
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(before - 1_000);

    const got = await list('', 'sam').expect(200);
    expect(got.body).toEqual({
      hosts: [
        inventory.hosts[0],
        inventory.hosts[1],
        { name: 'bare-1', address: 'bare-1.example.test', osFamily: 'lab', driver: 'lab', tags: [] },
      ],
      total: 3,
      nextPageToken: null,
      updatedAt: res.body.updatedAt,
    });
    expect(got.headers.etag).toMatch(/^"\d+"$/);
    expect(got.headers.etag).toBe(res.headers.etag);
    // Written through the store: it holds the validated inventory.
    expect((await api.app.get(Store).inventory.read()).hosts.map((h) => JSON.parse(h))).toEqual(got.body.hosts);
  });

  it('refuses a technician with 403 and leaves the inventory as it was', async () => {
    await put({ hosts: [host('keep-1')] }).expect(200);
    const res = await put({ hosts: [host('evil-1')] }, 'tess').expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, message: expect.stringMatching(/needs the role admin/) });
    expect(names((await list().expect(200)).body)).toEqual(['keep-1']);
  });

  it('answers 401 without a token', async () => {
    await request(api.server).get('/v1/inventory').expect(401);
    await request(api.server).put('/v1/inventory').send({ hosts: [] }).expect(401);
  });

  it('refuses a duplicate host name with 400 naming hosts.N.name, and writes nothing', async () => {
    await put({ hosts: [host('keep-2')] }).expect(200);
    const res = await put({ hosts: [host('a-1'), host('b-1'), host('c-1'), host('b-1')] }).expect(400);
    expect(res.body.issues).toEqual([{ path: 'hosts.3.name', message: expect.stringMatching(/duplicate host name b-1/) }]);
    expect(res.body.message).toContain('hosts.3.name');
    expect(names((await list().expect(200)).body)).toEqual(['keep-2']);
  });

  it('refuses an ssh host without ssh settings with 400 naming hosts.N.ssh', async () => {
    const noSsh = sshHost('web-2');
    delete noSsh.ssh;
    const res = await put({ hosts: [host('lab-1'), noSsh] }).expect(400);
    expect(issuePaths(res.body)).toEqual(['hosts.1.ssh']);
    expect(res.body.issues[0].message).toMatch(/ssh host needs ssh\.user and ssh\.privateKeyRef/);
  });

  it('refuses a private key given literally instead of by reference, without echoing it', async () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-literal-key\n-----END OPENSSH PRIVATE KEY-----';
    const res = await put({ hosts: [sshHost('web-3', { user: 'patcher', privateKeyRef: key })] }).expect(400);
    expect(res.body.issues).toEqual([{ path: 'hosts.0.ssh.privateKeyRef', message: expect.stringMatching(/secret reference/) }]);
    expect(JSON.stringify(res.body)).not.toContain('literal-key');
  });

  it('names every invalid field of a host with its index', async () => {
    const res = await put({ hosts: [host('ok-1'), host('bad name', { osFamily: 'windows', port: 70000 })] }).expect(400);
    expect(issuePaths(res.body).sort()).toEqual(['hosts.1.name', 'hosts.1.osFamily', 'hosts.1.port']);
    await put({ fleet: [] }).expect(400);
  });

  it('refuses fields the schema does not know, naming each (a key pasted next to the reference is never stored)', async () => {
    const pasted = sshHost('web-4', { user: 'patcher', privateKeyRef: 'secret:ssh/patcher', privateKey: 'PASTED-SECRET' });
    const res = await put({ hosts: [{ ...pasted, password: 'hunter2' }] }).expect(400);
    expect(issuePaths(res.body).sort()).toEqual(['hosts.0.password', 'hosts.0.ssh.privateKey']);
    expect(JSON.stringify(res.body)).not.toContain('PASTED-SECRET');
    const text = JSON.stringify(await api.app.get(Store).inventory.read());
    expect(text).not.toContain('PASTED-SECRET');
  });

  it('refuses a private key given as a path or a variable instead of a secret name', async () => {
    for (const privateKeyRef of ['file:/etc/shadow', 'env:PATH']) {
      const res = await put({ hosts: [sshHost('web-5', { user: 'patcher', privateKeyRef })] }).expect(400);
      expect(issuePaths(res.body)).toEqual(['hosts.0.ssh.privateKeyRef']);
    }
  });

  it('accepts an inventory far larger than the default 100 kB body limit', async () => {
    const hosts = Array.from({ length: 3000 }, (_, i) => host(`bulk-${String(i).padStart(5, '0')}`, { tags: ['lab', 'bulk'] }));
    expect(JSON.stringify({ hosts }).length).toBeGreaterThan(250_000);
    await expect(put({ hosts }).expect(200)).resolves.toMatchObject({ body: { hosts: 3000 } });
    const got = await list('?pageSize=1').expect(200);
    expect(got.body.total).toBe(3000);
  });
});

describe('GET /v1/inventory', () => {
  beforeAll(async () => {
    await put({
      hosts: [
        host('lab-canary-1', { tags: ['lab', 'canary'] }),
        host('lab-prod-1', { tags: ['lab', 'prod'] }),
        sshHost('web-prod-1'),
        host('lab-prod-2', { tags: ['lab', 'prod'] }),
        sshHost('db-prod-1', { user: 'dba', privateKeyRef: 'secret:ssh/dba' }),
      ],
    }).expect(200);
  });

  it('filters by tag, in inventory order', async () => {
    const prod = await list('?tag=prod').expect(200);
    expect(names(prod.body)).toEqual(['lab-prod-1', 'web-prod-1', 'lab-prod-2', 'db-prod-1']);
    expect(prod.body.total).toBe(4);
    expect(names((await list('?tag=canary').expect(200)).body)).toEqual(['lab-canary-1']);
    expect((await list('?tag=nobody-has-this').expect(200)).body).toMatchObject({ hosts: [], total: 0, nextPageToken: null });
  });

  it('filters by name (contains, case-insensitive), combined with tag', async () => {
    expect(names((await list('?name=PROD-1').expect(200)).body)).toEqual(['lab-prod-1', 'web-prod-1', 'db-prod-1']);
    expect(names((await list('?name=WEB&tag=prod').expect(200)).body)).toEqual(['web-prod-1']);
    expect(names((await list('?name=lab&tag=canary').expect(200)).body)).toEqual(['lab-canary-1']);
  });

  it('pages with pageSize and nextPageToken until every host was returned once', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await list(`?tag=prod&pageSize=3${token ? `&pageToken=${token}` : ''}`).expect(200);
      expect(res.body.total).toBe(4);
      seen.push(...names(res.body));
      token = res.body.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(seen).toEqual(['lab-prod-1', 'web-prod-1', 'lab-prod-2', 'db-prod-1']);
  });

  it('refuses a page token of other filters (400), a forged one (400), and one from before a PUT (409)', async () => {
    const first = await list('?tag=prod&pageSize=1').expect(200);
    const token = first.body.nextPageToken as string;
    expect(issuePaths((await list(`?tag=lab&pageSize=1&pageToken=${token}`).expect(400)).body)).toEqual(['pageToken']);
    expect(issuePaths((await list('?pageToken=bm90LWEtdG9rZW4').expect(400)).body)).toEqual(['pageToken']);

    const current = (await list().expect(200)).body.hosts;
    await new Promise((r) => setTimeout(r, 20)); // a new mtime even on coarse clocks
    await put({ hosts: [...current, host('lab-prod-3', { tags: ['lab', 'prod'] })] }).expect(200);
    const stale = await list(`?tag=prod&pageSize=1&pageToken=${token}`).expect(409);
    expect(stale.body.message).toMatch(/inventory changed/);
  });

  it('bounds the page size to 1..1000', async () => {
    expect(issuePaths((await list('?pageSize=1001').expect(400)).body)).toEqual(['pageSize']);
    expect(issuePaths((await list('?pageSize=0').expect(400)).body)).toEqual(['pageSize']);
    await list('?pageSize=1000').expect(200);
  });
});

describe('the OpenAPI document', () => {
  it('documents GET (any principal, bounded pages) and PUT (admin only, the inventory schema) of /v1/inventory', async () => {
    const { body } = await request(api.server).get('/openapi.json').expect(200);
    const get = body.paths['/v1/inventory'].get;
    expect(get['x-access']).toBe('authenticated');
    expect(get.parameters.find((p: { name: string }) => p.name === 'pageSize')).toMatchObject({ schema: { minimum: 1, maximum: 1000 } });
    const put = body.paths['/v1/inventory'].put;
    expect(put['x-access']).toEqual({ anyRole: ['admin'] });
    expect(put.description).toMatch(/Roles: admin\.$/);
    const hostSchema = put.requestBody.content['application/json'].schema.properties.hosts.items;
    expect(hostSchema.properties.ssh.properties.privateKeyRef.pattern).toContain('secret:');
  });
});

describe('the inventory file of the layout before the store', () => {
  it('is an empty inventory while it does not exist', async () => {
    const other = await startTestApi({ inventoryFile: path.join(dir, 'missing', 'inventory.json') });
    try {
      const res = await request(other.server).get('/v1/inventory').set(auth('tess')).expect(200);
      expect(res.body).toEqual({ hosts: [], total: 0, nextPageToken: null, updatedAt: null });
    } finally {
      await other.app.close();
    }
  });

  it('is named by RUNBOOKS_INVENTORY_FILE, else found in RUNBOOKS_DATA_DIR like the worker does, else <repo>/data/inventory.json', () => {
    const env = { RUNBOOKS_INVENTORY_FILE: '/etc/runbooks/inventory.json', RUNBOOKS_DATA_DIR: '/var/lib/runbooks' };
    expect(loadApiConfig(env).inventoryFile).toBe('/etc/runbooks/inventory.json');
    expect(loadApiConfig({ RUNBOOKS_DATA_DIR: '/var/lib/runbooks' }).inventoryFile).toBe('/var/lib/runbooks/inventory.json');
    expect(loadApiConfig({}).inventoryFile).toBe(path.join(repoRoot, 'data', 'inventory.json'));
  });

  it('is imported into the store once: edits to the file afterwards are not read', async () => {
    const file = path.join(dir, 'legacy', 'inventory.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ hosts: [host('old-1')] }));
    const store = { kind: 'sqlite' as const, file: path.join(dir, 'legacy', 'runbooks.sqlite') };
    const first = await startTestApi({ inventoryFile: file, store });
    try {
      expect(names((await request(first.server).get('/v1/inventory').set(auth('tess')).expect(200)).body)).toEqual(['old-1']);
    } finally {
      await first.app.close();
    }
    await fs.writeFile(file, JSON.stringify({ hosts: [host('edited-1')] }));
    const second = await startTestApi({ inventoryFile: file, store });
    try {
      expect(names((await request(second.server).get('/v1/inventory').set(auth('tess')).expect(200)).body)).toEqual(['old-1']);
    } finally {
      await second.app.close();
    }
  });

  it('answers 500 naming the problem (not a crash) when the file on the server is broken', async () => {
    const broken = path.join(dir, 'broken', 'inventory.json');
    await fs.mkdir(path.dirname(broken), { recursive: true });
    await fs.writeFile(broken, JSON.stringify({ hosts: [{ name: 'x' }] }));
    const other = await startTestApi({ inventoryFile: broken });
    try {
      const res = await request(other.server).get('/v1/inventory').set(auth('tess')).expect(500);
      expect(res.body.message).toMatch(/stored inventory is invalid \(hosts\.0\.address/);
      expect(res.body.message).not.toContain(broken);
    } finally {
      await other.app.close();
    }
  });
});

describe('launching a fleet run against the inventory', () => {
  test('a host the inventory lacks is refused at launch with 400 naming the field, and no run starts', async () => {
    await put({ hosts: [host('lab-1', { tags: ['lab', 'canary'] }), host('lab-2', { tags: ['lab'] })] }).expect(200);
    const res = await request(api.server)
      .post('/v1/runs')
      .set(auth('tess'))
      .send({
        runbook: 'security-patching',
        input: {
          targets: { names: ['lab-1', 'ghost-9'] },
          canary: { names: ['lab-1'] },
          patches: [{ package: 'openssl', version: '3.0.15' }],
        },
      })
      .expect(400);
    expect(res.body.issues).toEqual([
      { path: 'input.targets.names.1', message: 'ghost-9 is not in the inventory (GET /v1/inventory lists the hosts)' },
    ]);
    expect(res.body.runId).toBeUndefined();
  });
});
