import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createLabFleet, type LabFleetFixture } from '../../../apps/worker/src/demo/lab-fixture';
import { startTestApi, tokens, type TestApi } from '../api/app';
import { eventually, startTestWorker, type TestWorker } from '../harness/worker';
import { runCli } from './cli-process';

/**
 * `runbooks runs watch` on a terminal, following a real security-patching rollout over a lab
 * fleet: the view is redrawn in place with a progress bar per wave and hosts done / failed.
 * The terminal is a real pseudo-terminal (util-linux `script`), so stdout.isTTY is true.
 */
/** ESC [ n F (cursor up n lines, to column 1), ESC [ 0 J (clear to the end of the screen). */
const ESC = String.fromCharCode(27);
const REDRAW = new RegExp(`${ESC}\\[\\d+F${ESC}\\[0J`);

let root: string;
let api: TestApi;
let apiUrl: string;
let worker: TestWorker;
let lab: LabFleetFixture;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-rollout-'));
  lab = await createLabFleet({ dir: path.join(root, randomUUID()), canary: 1, production: 4, packages: { openssl: '3.0.11' } });
  api = await startTestApi({ store: lab.storeLocation });
  await api.app.listen(0, '127.0.0.1');
  apiUrl = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
  worker = await startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store });
});
afterAll(async () => {
  await api?.app.close();
  await worker?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const envOf = (who: keyof typeof tokens) => ({
  RUNBOOKS_API_URL: apiUrl,
  RUNBOOKS_TOKEN: tokens[who],
  RUNBOOKS_CONFIG_DIR: path.join(root, 'config'),
});

it('draws each wave as a progress bar with hosts done and failed, redrawn in place, and exits 0 when the rollout succeeds', async () => {
  // One production host fails its health check: rolled back, counted, within the threshold of 2.
  const failing = lab.production[2];
  await lab.fleet.setFaults(failing, { failHealth: true });
  const file = path.join(root, 'patch.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      targets: { tags: ['lab'] },
      patches: [{ package: 'openssl', version: '3.0.15' }],
      waves: [1, 'rest'],
      concurrency: 2,
      bakeSeconds: 0,
      hostTimeoutSeconds: 20,
      failureThreshold: { count: 2 },
      approval: { timeoutSeconds: 600 },
    }),
  );
  const launched = await runCli(['launch', 'security-patching', '-f', file, '-o', 'json'], { env: envOf('tess') });
  expect(launched.code).toBe(0);
  const { runId } = JSON.parse(launched.stdout) as { runId: string };

  const watching = runCli(['runs', 'watch', runId, '--interval', '200'], { env: envOf('tess'), terminal: true });
  await eventually(
    async () => {
      const { approvals } = JSON.parse((await runCli(['approvals', 'ls', '-o', 'json'], { env: envOf('alex') })).stdout) as {
        approvals: { runId: string }[];
      };
      return approvals.some((a) => a.runId === runId) ? true : undefined;
    },
    60_000,
    'the canary to pass and the production approval to wait',
  );
  const approved = await runCli(['approvals', 'approve', runId, 'approve-production', '-m', 'canary clean'], { env: envOf('alex') });
  expect(approved.code).toBe(0);

  const watched = await watching;
  expect(watched.stderr).toBe('');
  expect(watched.code).toBe(0);
  // Redrawn in place: the cursor goes back up over the previous frame and clears it.
  expect(watched.stdout).toMatch(REDRAW);
  const lastFrame = watched.stdout.split(REDRAW).pop() as string;
  const full = `[${'█'.repeat(24)}]`;
  expect(lastFrame.split('\n')).toEqual(
    expect.arrayContaining([
      `${runId} · security-patching · succeeded`,
      `  canary   ${full} 1/1 hosts: 1 done, 0 failed (done)`,
      `  wave 1   ${full} 1/1 hosts: 1 done, 0 failed (done)`,
      `  wave 2   ${full} 3/3 hosts: 2 done, 1 failed (done)`,
      '  hosts: 4 done, 1 failed (threshold 2), 0 skipped, 5 in all',
      `run ${runId} ended: succeeded`,
    ]),
  );
  // An earlier frame showed the production waves before they started.
  expect(watched.stdout).toContain(`  wave 2   [${'░'.repeat(24)}] 0/3 hosts: 0 done, 0 failed (pending)`);
});
