import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { tokens } from '../api/app';
import { startRestoreEnvironment, type RestoreEnvironment } from '../api/restore-environment';
import { eventually } from '../harness/worker';
import { runCli, type CliResult } from './cli-process';

/**
 * The `runbooks` CLI as a child process against the real API (listening on loopback), a real
 * worker and the run's dev server: output, JSON and exit statuses.
 */
let env: RestoreEnvironment;
let apiUrl: string;
let tmp: string;

beforeAll(async () => {
  env = await startRestoreEnvironment();
  await env.api.app.listen(0, '127.0.0.1');
  apiUrl = `http://127.0.0.1:${(env.api.app.getHttpServer().address() as AddressInfo).port}`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-test-'));
});
afterAll(async () => {
  await env?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

type Who = keyof typeof tokens;

/** The CLI as `who`, configured through the environment. */
function cli(who: Who, ...args: string[]): Promise<CliResult> {
  return runCli(args, { env: { RUNBOOKS_API_URL: apiUrl, RUNBOOKS_TOKEN: tokens[who], RUNBOOKS_CONFIG_DIR: path.join(tmp, 'unused') } });
}

async function inputFile(overrides: Record<string, unknown> = {}, asRequest = false): Promise<string> {
  const input = { ...(await env.input()), ...overrides };
  const file = path.join(tmp, `input-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(asRequest ? { runbook: 'data-restore', input } : input));
  return file;
}

/** The approvals `who` may decide, through `approvals ls -o json`. */
async function pendingApprovals(who: Who): Promise<{ runId: string; requestedBy: { id: string } }[]> {
  const listed = await cli(who, 'approvals', 'ls', '-o', 'json');
  return (JSON.parse(listed.stdout) as { approvals: { runId: string; requestedBy: { id: string } }[] }).approvals;
}

/** Waits until `who` sees an approval of a run `requester` (a demo principal id) launched that is not in `known`. */
async function newApproval(who: Who, requester: Who, known: Set<string>): Promise<string> {
  return eventually(
    async () => (await pendingApprovals(who)).find((a) => a.requestedBy.id === requester && !known.has(a.runId))?.runId,
    60_000,
    `an approval requested by ${requester} to show for ${who}`,
  );
}

describe('runbooks login', () => {
  it('checks the token, saves it readable by the user alone, and later commands use it', async () => {
    const configDir = path.join(tmp, 'config-ok');
    const login = await runCli(['login', '--api-url', apiUrl, '--token-stdin'], {
      env: { RUNBOOKS_CONFIG_DIR: configDir },
      stdin: `${tokens.tess}\n`,
    });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toContain(`logged in to ${apiUrl}`);
    const file = path.join(configDir, 'config.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ apiUrl, token: tokens.tess });

    const list = await runCli(['runbooks', 'list', '-o', 'json'], { env: { RUNBOOKS_CONFIG_DIR: configDir } });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { runbooks: { name: string }[] }).runbooks.map((r) => r.name)).toEqual(
      expect.arrayContaining(['data-restore', 'security-patching']),
    );
  });

  it('refuses an unknown token with the API 401, exit status 1, and saves nothing', async () => {
    const configDir = path.join(tmp, 'config-bad');
    const login = await runCli(['login', '--api-url', apiUrl, '--token-stdin'], {
      env: { RUNBOOKS_CONFIG_DIR: configDir },
      stdin: 'not-a-token\n',
    });
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/^error: 401 Unauthorized: unknown or revoked token/);
    expect(fs.existsSync(path.join(configDir, 'config.json'))).toBe(false);
  });

  it('says how to log in when nothing is configured (exit status 2)', async () => {
    const result = await runCli(['runs', 'ls'], { env: { RUNBOOKS_CONFIG_DIR: path.join(tmp, 'nothing') } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no API URL configured: run "runbooks login"/);
  });
});

describe('a restore launched and watched with the CLI, approved by another person through the CLI', () => {
  it('refuses the self-approval, accepts the approver, and the watch exits 0 with the steps it saw', async () => {
    const known = new Set((await pendingApprovals('alex')).map((a) => a.runId));
    // blair is approver and technician: only the rule against deciding one's own run stops her.
    const watching = cli('blair', 'launch', 'data-restore', '-f', await inputFile({}, true), '--watch', '--interval', '250');
    const runId = await newApproval('alex', 'blair', known);

    const self = await cli('blair', 'approvals', 'approve', runId, 'approve-restore', '-m', 'mine');
    expect(self.code).toBe(1);
    expect(self.stderr).toBe('error: 403 Forbidden: you requested this run; another person must decide its approvals\n');
    const technician = await cli('tess', 'approvals', 'approve', runId, 'approve-restore');
    expect(technician.code).toBe(1);
    expect(technician.stderr).toMatch(
      /^error: 403 Forbidden: tess may not decide an approval gate: that needs the role approver or tier1 or tier2 or tier3 or admin/,
    );

    const approved = await cli('alex', 'approvals', 'approve', runId, 'approve-restore', '-m', 'restore approved for INC-2048');
    expect(approved).toMatchObject({ code: 0, stderr: '' });
    expect(approved.stdout).toBe(`approved approve-restore of ${runId}: the gate is approved (1/1 approvals)\n`);

    const watched = await watching;
    expect(watched.stderr).toBe('');
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trimEnd().split('\n');
    // Not a terminal: plain lines, each transition once, in order.
    expect(lines[0]).toMatch(new RegExp(`^launched ${runId} \\(data-restore\\): running$`));
    expect(lines).toContain('status: awaiting_approval');
    expect(lines).toContainEqual(expect.stringMatching(/^approval approve-restore: pending \(0\/1 approvals, decide by /));
    expect(lines).toContain('approval approve-restore: approved (1/1 approvals; approved by alex)');
    expect(lines).toContainEqual(
      expect.stringMatching(/^step ✓ Swap the restored content into the target, retaining the previous contents \(succeeded\)/),
    );
    expect(lines.indexOf('status: awaiting_approval')).toBeLessThan(lines.indexOf('status: succeeded'));
    expect(lines[lines.length - 1]).toBe(`run ${runId} ended: succeeded`);

    const shown = await cli('blair', 'runs', 'show', runId, '-o', 'json');
    expect(shown.code).toBe(0);
    const run = JSON.parse(shown.stdout) as { status: string; gates: { decisions: { by: string; comment: string }[] }[] };
    expect(run.status).toBe('succeeded');
    expect(run.gates[0].decisions).toEqual([expect.objectContaining({ by: 'alex', comment: 'restore approved for INC-2048' })]);

    const report = await cli('tess', 'runs', 'report', runId);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('restore approved for INC-2048');
    const reportJson = JSON.parse((await cli('tess', 'runs', 'report', runId, '-o', 'json')).stdout) as {
      report: { runId: string };
      markdown: string;
    };
    expect(reportJson.report.runId).toBe(runId);
    expect(report.stdout.trimEnd()).toBe(reportJson.markdown.trimEnd());

    const listed = JSON.parse((await cli('tess', 'runs', 'ls', '--requested-by', 'blair', '-o', 'json')).stdout) as {
      runs: { runId: string }[];
    };
    await eventually(
      async () => {
        const page = JSON.parse((await cli('tess', 'runs', 'ls', '--status', 'succeeded', '-o', 'json')).stdout) as {
          runs: { runId: string }[];
        };
        return page.runs.some((r) => r.runId === runId) ? true : undefined;
      },
      15_000,
      'the run to be listed as succeeded',
    );
    expect(listed.runs.map((r) => r.runId)).toContain(runId);
  });

  it('with --output json --watch prints one JSON document per line and exits 12 when the approver rejects', async () => {
    const known = new Set((await pendingApprovals('alex')).map((a) => a.runId));
    const watching = cli('tess', '-o', 'json', 'launch', 'data-restore', '-f', await inputFile(), '--watch', '--interval', '250');
    const runId = await newApproval('alex', 'tess', known);
    const rejected = await cli('alex', 'approvals', 'reject', runId, 'approve-restore', '-m', 'wrong snapshot', '-o', 'json');
    expect(rejected.code).toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({
      id: 'approve-restore',
      state: 'rejected',
      decisions: [{ by: 'alex', decision: 'reject' }],
    });

    const watched = await watching;
    expect(watched.code).toBe(12);
    const documents = watched.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { runId: string; status: string });
    expect(documents[0]).toMatchObject({ runId, runbook: 'data-restore', status: 'running', links: { self: `/v1/runs/${runId}` } });
    expect(documents.map((d) => d.status)).toContain('awaiting_approval');
    expect(documents[documents.length - 1]).toMatchObject({ runId, status: 'rejected' });
  });

  it('exits 11 when the watched run is cancelled', async () => {
    const launched = await cli('tess', 'launch', 'data-restore', '-f', await inputFile(), '-o', 'json');
    expect(launched.code).toBe(0);
    const { runId } = JSON.parse(launched.stdout) as { runId: string };
    await eventually(
      async () =>
        (JSON.parse((await cli('tess', 'runs', 'show', runId, '-o', 'json')).stdout) as { status: string }).status === 'awaiting_approval'
          ? true
          : undefined,
      60_000,
      'the run to wait for approval',
    );
    const watching = cli('tess', 'runs', 'watch', runId, '--interval', '250');
    const cancelled = await cli('tess', 'runs', 'cancel', runId, '--reason', 'wrong ticket');
    expect(cancelled).toMatchObject({ code: 0, stdout: `cancellation of ${runId} requested (status was awaiting_approval)\n` });
    const watched = await watching;
    expect(watched.code).toBe(11);
    expect(watched.stdout.trimEnd().split('\n').pop()).toBe(`run ${runId} ended: cancelled (Workflow cancelled)`);
  });

  it('exits 10 when the watched run fails', async () => {
    // A snapshot the repository does not hold: once approved (the repository is opened only then),
    // the run fails choosing its restore point.
    const file = await inputFile();
    const input = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...input, snapshotId: '0123abcd' }));
    const launched = await cli('tess', 'launch', 'data-restore', '-f', file, '-o', 'json');
    const { runId } = JSON.parse(launched.stdout) as { runId: string };
    const watching = cli('tess', 'runs', 'watch', runId, '--interval', '250');
    await eventually(
      async () => ((await cli('alex', 'approvals', 'approve', runId, 'approve-restore')).code === 0 ? true : undefined),
      60_000,
      'the approval to be taken',
    );
    const watched = await watching;
    expect(watched.code).toBe(10);
    expect(watched.stdout).toMatch(/step ✗ .+ \(failed\): /);
    expect(watched.stdout.trimEnd().split('\n').pop()).toMatch(/ ended: failed/);
  });
});

describe('errors the API refuses', () => {
  it('prints each field of a 400 and exits 1', async () => {
    const file = path.join(tmp, 'bad-input.json');
    fs.writeFileSync(file, JSON.stringify({ repository: { url: '/srv/backups', passwordRef: 'hunter2' }, path: 'relative' }));
    const result = await cli('tess', 'launch', 'data-restore', '-f', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const [headline, ...fields] = result.stderr.trimEnd().split('\n');
    expect(headline).toMatch(/^error: 400 Bad Request: Invalid request body: /);
    expect(fields).toContainEqual(expect.stringMatching(/^ {2}input\.repository\.passwordRef: /));
    expect(fields).toContainEqual(expect.stringMatching(/^ {2}input\.target: /));

    const json = await cli('tess', 'launch', 'data-restore', '-f', file, '-o', 'json');
    expect(json.code).toBe(1);
    const { error } = JSON.parse(json.stderr) as { error: { statusCode: number; issues: { path: string }[] } };
    expect(error.statusCode).toBe(400);
    expect(error.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['input.repository.passwordRef', 'input.target']));
  });

  it('refuses a role the caller lacks with the 403 the API gives', async () => {
    const result = await cli('alex', 'launch', 'data-restore', '-f', await inputFile());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: 403 Forbidden: alex may not launch a run: that needs the role technician or admin/);
  });

  it('refuses a file that is not JSON before calling the API (exit status 2)', async () => {
    const file = path.join(tmp, 'not-json.json');
    fs.writeFileSync(file, '{ nope');
    const result = await cli('tess', 'launch', 'data-restore', '-f', file);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
  });
});

describe('schedules through the CLI', () => {
  it('creates, lists, shows, pauses, unpauses, triggers and deletes a schedule', async () => {
    const id = `cli-${Date.now().toString(36)}`;
    const file = path.join(tmp, 'schedule.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ id, runbook: 'data-restore', input: await env.input(), spec: { cron: ['0 2 * * *'], timezone: 'Europe/Berlin' } }),
    );
    const created = await cli('sam', 'schedules', 'create', '-f', file, '-o', 'json');
    expect(created.code).toBe(0);
    const view = JSON.parse(created.stdout) as { id: string; paused: boolean; nextFireTimes: string[] };
    expect(view).toMatchObject({ id, paused: false });
    expect(view.nextFireTimes[0]).toMatch(/T0[01]:00:00(\.000)?Z$/);

    const listed = await eventually(
      async () => {
        const ls = await cli('sam', 'schedules', 'ls');
        return ls.stdout.includes(id) ? ls : undefined;
      },
      15_000,
      'the schedule to be listed',
    );
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID +RUNBOOK +PAUSED +NEXT FIRE +NOTE$/);

    expect((await cli('sam', 'schedules', 'pause', id, '--note', 'holiday')).stdout).toBe(`${id} is paused\n`);
    const shown = await cli('sam', 'schedules', 'show', id);
    expect(shown.stdout).toContain(`schedule ${id} (data-restore) PAUSED`);
    expect(shown.stdout).toContain('note:         holiday');
    expect((await cli('sam', 'schedules', 'unpause', id)).stdout).toBe(`${id} is running\n`);

    const triggered = await cli('sam', 'schedules', 'trigger', id, '-o', 'json');
    expect(triggered.code).toBe(0);
    expect(JSON.parse(triggered.stdout)).toMatchObject({ id, action: 'trigger' });
    const runId = await eventually(
      async () =>
        (JSON.parse((await cli('sam', 'runs', 'ls', '--schedule', id, '-o', 'json')).stdout) as { runs: { runId: string }[] }).runs[0]
          ?.runId,
      20_000,
      'the triggered run to be listed',
    );
    await cli('ada', 'runs', 'cancel', runId, '--reason', 'test over');

    const refused = await cli('tess', 'schedules', 'delete', id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: 403 Forbidden: tess may not delete a schedule/);
    expect(await cli('sam', 'schedules', 'delete', id)).toMatchObject({ code: 0, stdout: `deleted ${id}\n` });
    const gone = await cli('sam', 'schedules', 'show', id);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`error: 404 Not Found: schedule ${id} not found\n`);
  });
});
