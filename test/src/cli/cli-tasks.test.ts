import type { RunState } from '@runbooks/contracts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { auth, startTestApi, tokens, type TestApi } from '../api/app';
import { WebhookReceiver } from '../harness/webhook-receiver';
import { eventually, startTestWorker, type TestWorker } from '../harness/worker';
import { runCli, type CliResult } from './cli-process';

/**
 * `runbooks tasks ...` as a child process against the real API, a real worker and the dev
 * server: a disk-replacement's swap-disk task listed, claimed, released, completed with evidence
 * from a file (a wrong one refused naming its fields), and the run finishing.
 */
let api: TestApi;
let worker: TestWorker;
let receiver: WebhookReceiver;
let apiUrl: string;
let tmp: string;

beforeAll(async () => {
  receiver = new WebhookReceiver();
  const webhookUrl = await receiver.start();
  api = await startTestApi();
  worker = await startTestWorker({ taskQueue: api.taskQueue, webhookUrl });
  await api.app.listen(0, '127.0.0.1');
  apiUrl = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-tasks-'));
});
afterAll(async () => {
  await api?.app.close();
  await worker?.stop();
  await receiver?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

type Who = keyof typeof tokens;

function cli(who: Who, ...args: string[]): Promise<CliResult> {
  return runCli(args, { env: { RUNBOOKS_API_URL: apiUrl, RUNBOOKS_TOKEN: tokens[who], RUNBOOKS_CONFIG_DIR: path.join(tmp, 'unused') } });
}

function jsonFile(name: string, value: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

interface ListedTask {
  runId: string;
  taskId: string;
  state: string;
  assignedRole: string;
  claimedBy?: { id: string };
  instructions: string;
  evidenceForm: { properties: Record<string, unknown> };
}

async function listed(who: Who, ...filters: string[]): Promise<ListedTask[]> {
  const result = await cli(who, 'tasks', 'ls', ...filters, '-o', 'json');
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return (JSON.parse(result.stdout) as { tasks: ListedTask[] }).tasks;
}

describe('human tasks with the CLI', () => {
  it('lists a disk swap for tier1, claims, releases and completes it from an evidence file; wrong evidence names its fields', async () => {
    const launched = await cli(
      'tess',
      'launch',
      'disk-replacement',
      '-f',
      jsonFile('input.json', { host: 'db-07', slot: 'bay 3', notify: ['dba-team'], slaSeconds: 600 }),
      '-o',
      'json',
    );
    expect(launched.code).toBe(0);
    const { runId } = JSON.parse(launched.stdout) as { runId: string };

    const task = await eventually(
      async () => (await listed('fran', '--my-roles')).find((t) => t.runId === runId),
      30_000,
      'the swap-disk task for fran',
    );
    expect(task).toMatchObject({
      taskId: 'swap-disk',
      state: 'open',
      assignedRole: 'tier1',
      instructions: expect.stringContaining('bay 3'),
    });
    expect(Object.keys(task.evidenceForm.properties)).toEqual(['removedSerial', 'installedSerial', 'rebuildStarted']);
    // alex holds no tier role: not among "my roles", and the API's 403 is printed.
    expect((await listed('alex', '--my-roles')).map((t) => t.runId)).not.toContain(runId);
    const forbidden = await cli('alex', 'tasks', 'claim', runId, 'swap-disk');
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^error: 403 Forbidden: .*needs one of the roles: tier1/);

    const table = await cli('fran', 'tasks', 'ls', '--my-roles');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^RUN\s+TASK\s+TITLE\s+STATE\s+TIER\s+CLAIMED BY\s+DEADLINE\n/);
    expect(table.stdout).toMatch(new RegExp(`${runId}\\s+swap-disk\\s+.*\\s+open\\s+tier1\\s+-\\s+\\d{4}-\\d\\d-\\d\\d `));

    const claimed = await cli('fran', 'tasks', 'claim', runId, 'swap-disk');
    expect(claimed).toMatchObject({ code: 0, stderr: '', stdout: `claimed swap-disk of ${runId}: the task is claimed, claimed by fran\n` });
    expect((await listed('fran', '--mine')).map((t) => t.runId)).toContain(runId);
    expect((await listed('gus', '--mine')).map((t) => t.runId)).not.toContain(runId);
    expect((await listed('fran', '--overdue')).map((t) => t.runId)).not.toContain(runId);

    const released = await cli('fran', 'tasks', 'release', runId, 'swap-disk', '-m', 'wrong spare at hand', '-o', 'json');
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ id: 'swap-disk', state: 'open' });
    expect((await cli('fran', 'tasks', 'claim', runId, 'swap-disk')).code).toBe(0);

    // Evidence off the form: each bad field named, unknown fields included; nothing recorded.
    const wrong = await cli(
      'fran',
      'tasks',
      'complete',
      runId,
      'swap-disk',
      '-f',
      jsonFile('wrong.json', { removedSerial: 'WD-OLD-1234', rebuildStarted: 'yes', colour: 'red' }),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: 400 Bad Request: /);
    expect(wrong.stderr).toMatch(/\n {2}evidence\.installedSerial: /);
    expect(wrong.stderr).toMatch(/\n {2}evidence\.rebuildStarted: /);
    expect(wrong.stderr).toMatch(/\n {2}evidence\.colour: /);
    const wrongJson = await cli('fran', 'tasks', 'complete', runId, 'swap-disk', '-f', path.join(tmp, 'wrong.json'), '-o', 'json');
    expect(wrongJson.code).toBe(1);
    const paths = (JSON.parse(wrongJson.stderr) as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['evidence.installedSerial', 'evidence.rebuildStarted', 'evidence.colour']));
    // A file that is not JSON is the user's mistake (exit 2), before anything is sent.
    fs.writeFileSync(path.join(tmp, 'bad.json'), '{ not json');
    const broken = await cli('fran', 'tasks', 'complete', runId, 'swap-disk', '-f', path.join(tmp, 'bad.json'));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/bad\.json is not valid JSON/);

    const evidence = { removedSerial: 'WD-OLD-1234', installedSerial: 'WD-NEW-5678', rebuildStarted: true };
    const done = await cli('fran', 'tasks', 'complete', runId, 'swap-disk', '-f', jsonFile('evidence.json', evidence), '-o', 'json');
    expect(done).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(done.stdout)).toMatchObject({ id: 'swap-disk', state: 'done', evidence, completedBy: { id: 'fran' } });

    const ended = await eventually(
      async () => {
        const res = await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200);
        return res.body.temporalStatus === 'COMPLETED' ? (res.body as RunState) : undefined;
      },
      30_000,
      `${runId} to complete`,
    );
    expect(ended.status).toBe('succeeded');
    expect(ended.tasks?.[0]).toMatchObject({ state: 'done', evidence, completedBy: { id: 'fran' } });
    expect((await listed('fran')).map((t) => t.runId)).not.toContain(runId);
  });
});
