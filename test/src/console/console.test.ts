import type { RunState } from '@runbooks/contracts';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { createLabFleet, type LabFleetFixture } from '../../../apps/worker/src/demo/lab-fixture';
import { inputDigest } from '../../../apps/api/src/runs/runs.service';
import { auth, restoreInput, startTestApi, type TestApi } from '../api/app';
import { startRestoreEnvironment, type RestoreEnvironment } from '../api/restore-environment';
import { WebhookReceiver } from '../harness/webhook-receiver';
import { eventually, startTestWorker, testClient, type TestWorker } from '../harness/worker';
import { listen, openConsoleBrowser, type ConsoleBrowser } from './browser';

/** The h1 of a run page ends with the run's status, e.g. "Data restore … awaiting approval". */
async function waitForRunStatus(page: Page, status: string): Promise<void> {
  await page.locator('h1 .status', { hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: 90_000 });
}

/**
 * What the pages promise for accessibility, checked on the rendered page: every input, select,
 * textarea and button has an accessible name (a label, its text or aria-label), and all text
 * has a contrast of at least 4.5:1 against the background it is drawn on (WCAG AA).
 */
async function expectAccessible(page: Page): Promise<void> {
  const unnamed = await page.$$eval('input, select, textarea, button', (controls) =>
    controls
      .filter((c) => {
        const labelled = (c as HTMLInputElement).labels?.length || c.getAttribute('aria-label') || c.getAttribute('aria-labelledby');
        return !labelled && !(c.tagName === 'BUTTON' && c.textContent?.trim());
      })
      .map((c) => c.outerHTML.slice(0, 120)),
  );
  expect(unnamed).toEqual([]);

  const lowContrast = await page.evaluate(() => {
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) =>
      [r, g, b]
        .map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const found: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement!;
      if (!node.textContent?.trim() || el.closest('[disabled], .visually-hidden, .skip, noscript, option')) continue;
      const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) found.push(`${ratio.toFixed(2)}: ${node.textContent.trim().slice(0, 40)}`);
    }
    return found;
  });
  expect(lowContrast).toEqual([]);
}

describe('the web console, in Chromium, against the real API and worker: a restore', () => {
  let env: RestoreEnvironment;
  let browser: ConsoleBrowser;

  beforeAll(async () => {
    env = await startRestoreEnvironment();
    browser = await openConsoleBrowser(await listen(env.api.app));
  });
  afterEach(() => {
    expect(browser.errors).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  it('serves the console under /console with deep links, cache headers and no token, and 404s a missing asset', async () => {
    const index = await request(env.api.server).get('/console/runs/some-run').expect(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'; style-src 'self'/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(index.text)![1];
    const js = await request(env.api.server).get(asset).expect(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    await request(env.api.server).get('/console/assets/index-missing.js').expect(404);
    await request(env.api.server).get('/console').expect(301).expect('Location', '/console/');
    // The API behind it still wants a token; /v1/me names the caller.
    await request(env.api.server).get('/v1/me').expect(401);
    const me = await request(env.api.server).get('/v1/me').set(auth('blair')).expect(200);
    expect(me.body).toEqual({ id: 'blair', displayName: 'Blair Approver', roles: ['approver', 'technician'] });
  });

  it('launches from the generated form (400s shown at their fields), refuses self-approval on screen, and a second person approves to the end', async () => {
    const input = await env.input();
    const repository = input.repository as { url: string; passwordRef: string };

    // Blair (technician and approver) follows a deep link to the launch form and signs in there.
    const blair = await browser.context.newPage();
    await blair.goto('/console/launch/data-restore');
    await blair.getByRole('heading', { name: 'Sign in to the runbooks console' }).waitFor();
    await browser.screenshot(blair, 'sign-in');
    await blair.getByLabel('Service token').fill('demo-approver2-token');
    await blair.getByRole('button', { name: 'Sign in' }).click();
    await blair.getByRole('heading', { name: 'Launch a runbook' }).waitFor();
    expect(new URL(blair.url()).pathname).toBe('/console/launch/data-restore');

    const repo = blair.getByRole('group', { name: /Repository/ });
    await repo.getByLabel(/^Url/).fill(repository.url);
    await repo.getByLabel(/^Password ref/).fill('hunter2');
    await blair.getByLabel(/^Path/).fill(String(input.path));
    await blair.getByLabel(/^Affected users/).fill('jane@example.test\nerin@example.test');
    await blair.getByLabel(/^Ticket/).fill('INC-2048');
    await blair.getByRole('button', { name: 'Launch data-restore' }).click();

    // The API's 400 names input.repository.passwordRef and input.target; each shows at its field.
    const summary = blair.getByRole('alert').filter({ hasText: 'The run was not launched' });
    await summary.waitFor();
    await expect(summary.textContent()).resolves.toMatch(/400/);
    await expect(summary.getByRole('link', { name: 'input.repository.passwordRef' }).count()).resolves.toBe(1);
    await expect(summary.getByRole('link', { name: 'input.target' }).count()).resolves.toBe(1);
    const passwordRef = repo.getByLabel(/^Password ref/);
    await expect(passwordRef.getAttribute('aria-invalid')).resolves.toBe('true');
    const passwordRefErrors = await blair.locator('#field-input_repository_passwordRef-errors').textContent();
    expect(passwordRefErrors).toMatch(/secret reference/);
    await expect(blair.getByLabel(/^Target/).getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(blair.getByLabel(/^Path/).getAttribute('aria-invalid')).resolves.toBeNull();
    await browser.screenshot(blair, 'launch-400-at-fields');
    await expectAccessible(blair);
    await expect(request(env.api.server).get('/v1/runs?requestedBy=blair').set(auth('blair'))).resolves.toMatchObject({
      body: { runs: [] },
    });

    await passwordRef.fill(repository.passwordRef);
    await blair.getByLabel(/^Target/).fill(String(input.target));
    await blair.getByLabel(/^Timeout seconds/).fill('600');
    await blair.getByRole('button', { name: 'Launch data-restore' }).click();
    await blair.waitForURL(/\/console\/runs\/data-restore-/);
    const runId = decodeURIComponent(new URL(blair.url()).pathname.split('/').pop()!);
    await waitForRunStatus(blair, 'awaiting approval');
    await browser.screenshot(blair, 'run-awaiting-approval');

    // What was launched is what the form said, with the defaults the API fills in.
    const launched = (await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('sam')).expect(200)).body as RunState;
    expect(launched.requestedBy.id).toBe('blair');
    expect(launched.input).toMatchObject({
      repository,
      path: input.path,
      target: input.target,
      affectedUsers: ['jane@example.test', 'erin@example.test'],
      ticket: 'INC-2048',
      approval: { timeoutSeconds: 600 },
    });

    // Blair's own approval is refused by the run, and the console says why.
    await blair.getByRole('link', { name: 'Decide' }).click();
    await blair.waitForURL(`/console/approvals/${runId}/approve-restore`);
    await blair.getByRole('button', { name: 'Approve' }).click();
    const refused = blair.getByRole('alert').filter({ hasText: 'Not recorded' });
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/403 — .*you requested this run; another person must decide its approvals/);
    await browser.screenshot(blair, 'approval-self-refused');
    const gateAfterRefusal = (await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('sam'))).body as RunState;
    expect(gateAfterRefusal.gates[0]).toMatchObject({ id: 'approve-restore', state: 'pending', decisions: [] });

    // Alex signs in with the keyboard alone and opens the inbox: the card shows the requester,
    // deadline, escalation tier and input hash.
    const alex = await browser.context.newPage();
    await alex.goto('/console/');
    await alex.keyboard.press('Tab');
    await alex.keyboard.type('demo-approver-token');
    await alex.keyboard.press('Enter');
    await alex.getByRole('heading', { name: 'Inbox' }).waitFor();
    const card = alex.getByRole('article').filter({ hasText: runId });
    await card.waitFor();
    const cardText = (await card.textContent())!;
    expect(cardText).toContain('Blair Approver (blair)');
    expect(cardText).toContain('tier 1 (first approvers)');
    // The hash the API recorded at launch: sha256 of the validated input's canonical JSON.
    expect(cardText).toContain(`Input hash${inputDigest(launched.input)}`);
    expect(cardText).toMatch(/Deadline.*in (9|10) minutes/);
    await browser.screenshot(alex, 'inbox');
    await expectAccessible(alex);
    await card.getByLabel('Comment').fill('restore checked with Jane');
    // From the comment, Tab reaches Approve and Enter presses it.
    await alex.keyboard.press('Tab');
    await expect(alex.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Approve');
    await alex.keyboard.press('Enter');
    await card.getByRole('status').filter({ hasText: 'Approved: the gate is now approved.' }).waitFor();

    // The run finishes; its page shows who did what and the rendered report.
    await card.getByRole('link', { name: runId }).click();
    await waitForRunStatus(alex, 'succeeded');
    const timeline = (await alex.locator('ol.timeline').textContent())!;
    expect(timeline).toMatch(/blair requested data-restore/);
    expect(timeline).toMatch(/alex approved “Restore .*”: restore checked with Jane/);
    const report = alex.getByRole('region', { name: 'Report' });
    // The report is fetched again when the run ends: it says so too.
    await report.locator('li', { hasText: 'Status: succeeded' }).waitFor();
    expect(await report.textContent()).toContain(runId);
    await browser.screenshot(alex, 'run-succeeded');
    const ended = (await request(env.api.server).get(`/v1/runs/${runId}`).set(auth('sam'))).body as RunState;
    expect(ended).toMatchObject({
      status: 'succeeded',
      gates: [{ state: 'approved', decisions: [{ by: 'alex', comment: 'restore checked with Jane' }] }],
    });

    // The run list, filtered in the URL, links to it.
    await alex.goto(`/console/runs?runbook=data-restore&requestedBy=blair`);
    await alex.getByRole('link', { name: runId }).waitFor();
    await browser.screenshot(alex, 'runs');
  });
});

describe('the web console, in Chromium: steering a patch rollout and the calendar', () => {
  const OLD = { openssl: '3.0.11' };
  let root: string;
  let lab: LabFleetFixture;
  let api: TestApi;
  let worker: TestWorker;
  let temporal: Awaited<ReturnType<typeof testClient>>;
  let browser: ConsoleBrowser;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'console-rollout-'));
    lab = await createLabFleet({ dir: path.join(root, 'fleet'), canary: 1, production: 4, packages: OLD });
    api = await startTestApi({ store: lab.storeLocation });
    [worker, temporal] = await Promise.all([startTestWorker({ taskQueue: api.taskQueue, hosts: lab, store: lab.store }), testClient()]);
    browser = await openConsoleBrowser(await listen(api.app));
  });
  afterEach(() => {
    expect(browser.errors).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.app.close();
    await worker?.stop();
    await temporal?.connection.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const getRun = async (runId: string) =>
    (await request(api.server).get(`/v1/runs/${runId}`).set(auth('sam')).expect(200)).body as RunState;

  it('launches a patch rollout from its generated form, pauses and resumes it from the run page; an approver sees no steering controls', async () => {
    // The security-patching form: lists of strings, a list of objects, a choice of shapes, nested defaults.
    const tess = await browser.signedIn('tess', '/console/launch/security-patching');
    await tess
      .getByRole('group', { name: /^Targets/ })
      .getByLabel(/^Tags/)
      .fill('lab');
    await tess.getByRole('button', { name: 'Add patches' }).click();
    const patch = tess.getByRole('group', { name: /^Patches 1/ });
    await patch.getByLabel(/^Package/).fill('openssl');
    await patch.getByLabel(/^Version/).fill('3.0.15');
    await tess.getByLabel(/^Waves/).fill('rest');
    await tess.getByLabel(/^Concurrency/).fill('2');
    await tess.getByLabel(/^Bake seconds/).fill('0');
    const threshold = tess.getByRole('group', { name: /^Failure threshold/ });
    await threshold.getByRole('radio', { name: 'Count' }).check();
    await threshold.getByRole('textbox', { name: /^Count/ }).fill('1');
    await tess
      .getByRole('group', { name: /^Approval/ })
      .getByLabel(/^Timeout seconds/)
      .fill('600');
    await browser.screenshot(tess, 'launch-security-patching');
    await tess.getByRole('button', { name: 'Launch security-patching' }).click();
    await tess.waitForURL(/\/console\/runs\/security-patching-/);
    const runId = decodeURIComponent(new URL(tess.url()).pathname.split('/').pop()!);
    expect((await getRun(runId)).input).toMatchObject({
      targets: { tags: ['lab'] },
      canary: { tags: ['canary'] },
      patches: [{ package: 'openssl', version: '3.0.15' }],
      waves: ['rest'],
      concurrency: 2,
      bakeSeconds: 0,
      failureThreshold: { count: 1 },
      approval: { timeoutSeconds: 600, requiredApprovals: 1 },
    });
    await eventually(
      async () => ((await getRun(runId)).gates.some((g) => g.id === 'approve-production' && g.state === 'pending') ? true : undefined),
      60_000,
      'the canary to pass and the production gate to open',
    );

    const rollout = tess.getByRole('region', { name: 'Rollout' });
    await rollout.getByRole('row', { name: /^canary/ }).waitFor();
    await tess.getByRole('button', { name: 'Pause rollout' }).click();
    await tess.getByRole('status').filter({ hasText: 'Paused.' }).waitFor();
    await rollout.locator('.status-paused').waitFor();
    expect((await getRun(runId)).rollout).toMatchObject({ paused: true, operatorActions: [{ action: 'pause', by: 'tess' }] });

    await request(api.server)
      .post(`/v1/runs/${runId}/approvals/approve-production`)
      .set(auth('alex'))
      .send({ decision: 'approve' })
      .expect(200);
    await eventually(async () => ((await getRun(runId)).gates[0].state === 'approved' ? true : undefined), 20_000, 'the approval');
    // Approved, but paused: no production host was touched.
    expect((await lab.fleet.ledger()).filter((e) => e.op === 'patch').map((e) => e.host)).toEqual(lab.canary);
    await rollout.getByRole('row', { name: /^wave 1/ }).waitFor();
    await browser.screenshot(tess, 'rollout-paused');
    await expectAccessible(tess);

    // An approver may look but not steer.
    const alex = await browser.signedIn('alex', `/console/runs/${runId}`);
    await alex
      .getByRole('region', { name: 'Rollout' })
      .getByRole('row', { name: /^canary/ })
      .waitFor();
    expect(await alex.getByRole('button', { name: /Pause rollout|Resume rollout/ }).count()).toBe(0);
    expect(await alex.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await alex.close();

    await tess.getByRole('button', { name: 'Resume rollout' }).click();
    await tess.getByRole('status').filter({ hasText: 'Resumed.' }).waitFor();
    await waitForRunStatus(tess, 'succeeded');
    const waves = await rollout.getByRole('row', { name: /^wave 1/ }).textContent();
    expect(waves).toMatch(/^wave 1\s*done\s*4\s*0\s*0\s*4/);
    const timeline = (await tess.locator('ol.timeline').textContent())!;
    expect(timeline).toMatch(/tess pause: paused from the console/);
    expect(timeline).toMatch(/tess resume: resumed/);
    await browser.screenshot(tess, 'rollout-succeeded');
    const ended = await getRun(runId);
    expect(ended.rollout!.operatorActions.map((a) => [a.action, a.by])).toEqual([
      ['pause', 'tess'],
      ['resume', 'tess'],
    ]);
    expect(ended.status).toBe('succeeded');
  });

  it('shows schedule fire times, maintenance windows and freezes on the week', async () => {
    const scheduleId = `console-${randomUUID().slice(0, 8)}`;
    await request(api.server)
      .post('/v1/schedules')
      .set(auth('sam'))
      .send({
        id: scheduleId,
        runbook: 'data-restore',
        input: restoreInput(),
        spec: { cron: ['30 3 * * *'] },
        paused: true,
        note: 'nightly restore drill',
      })
      .expect(201);
    await request(api.server)
      .put('/v1/maintenance/windows/nightly')
      .set(auth('sam'))
      .send({ opens: '0 22 * * *', timezone: 'UTC', durationSeconds: 7200, description: 'patch window' })
      .expect(200);
    // A freeze over this week's Wednesday (UTC): the week view must show it on that day.
    const monday = new Date();
    monday.setUTCHours(0, 0, 0, 0);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
    const wednesday = new Date(monday.getTime() + 2 * 86_400_000);
    await request(api.server)
      .put('/v1/maintenance/freezes/audit')
      .set(auth('sam'))
      .send({ periods: [{ from: wednesday.toISOString(), to: new Date(wednesday.getTime() + 86_400_000).toISOString(), reason: 'audit' }] })
      .expect(200);
    try {
      // Listed from Temporal visibility, which may lag a moment behind the create.
      await eventually(
        async () => ((await request(api.server).get('/v1/schedules').set(auth('sam'))).body.schedules.length ? true : undefined),
        20_000,
        'the schedule to be listed',
      );
      const sam = await browser.signedIn('sam', '/console/calendar');
      await sam.getByRole('row', { name: new RegExp(scheduleId) }).waitFor();
      const wed = sam.getByRole('region', { name: /^Wed/ });
      await wed.getByText(/freeze audit: audit/).waitFor();
      // The window closes for changes during the freeze (the API's verdicts): not open on Wednesday.
      expect(await wed.getByText(/window nightly open/).count()).toBe(0);
      const thursday = sam.getByRole('region', { name: /^Thu/ });
      await thursday.getByText(/22:00–… window nightly open/).waitFor();
      await thursday.getByText(new RegExp(`03:30 ${scheduleId} runs data-restore \\(paused\\)`)).waitFor();
      await browser.screenshot(sam, 'calendar');
      await expectAccessible(sam);
    } finally {
      await request(api.server).delete(`/v1/schedules/${scheduleId}`).set(auth('sam'));
    }
  });
});

describe('the web console, in Chromium: a human task of a disk replacement', () => {
  let receiver: WebhookReceiver;
  let api: TestApi;
  let worker: TestWorker;
  let browser: ConsoleBrowser;

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    const webhookUrl = await receiver.start();
    api = await startTestApi();
    worker = await startTestWorker({ taskQueue: api.taskQueue, webhookUrl });
    browser = await openConsoleBrowser(await listen(api.app));
  });
  afterEach(() => {
    expect(browser.errors).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.app.close();
    await worker?.stop();
    await receiver?.stop();
  });

  it('launched from its form, the swap-disk task is claimed by a tier1 person in the inbox, wrong evidence shown at its field, and completed to the end', async () => {
    const tess = await browser.signedIn('tess', '/console/launch/disk-replacement');
    await tess.getByLabel(/^Host/).fill('db-07');
    await tess.getByLabel(/^Slot/).fill('bay 3');
    await tess.getByLabel(/^Notify/).fill('dba-team');
    await tess.getByLabel(/^Sla seconds/).fill('600');
    await tess.getByRole('button', { name: 'Launch disk-replacement' }).click();
    await tess.waitForURL(/\/console\/runs\/disk-replacement-/);
    const runId = decodeURIComponent(new URL(tess.url()).pathname.split('/').pop()!);
    await waitForRunStatus(tess, 'awaiting task');

    // An approver holds no tier: the task is not in his inbox.
    const alex = await browser.signedIn('alex', '/console/');
    await alex.getByText('No task waits for you.').waitFor();
    expect(await alex.getByRole('article').filter({ hasText: runId }).count()).toBe(0);
    await alex.close();

    // Fran (tier1) sees it with its instructions, deadline and tier, and claims it.
    const fran = await browser.signedIn('fran', '/console/');
    const card = fran.getByRole('article').filter({ hasText: runId });
    await card.waitFor();
    const cardText = (await card.textContent())!;
    expect(cardText).toContain('Tess Technician (tess)');
    expect(cardText).toContain('Tiertier1 (first line)');
    expect(cardText).toMatch(/Deadline.*in (9|10) minutes/);
    expect(await card.locator('details').textContent()).toMatch(/Find db-07 and the disk in bay 3/);
    await browser.screenshot(fran, 'inbox-task');
    await expectAccessible(fran);
    await card.getByRole('button', { name: 'Claim' }).click();
    await card.getByRole('status').filter({ hasText: 'Claimed: it is yours to do.' }).waitFor();
    // Released, it is open to the line again; Fran claims it back.
    await card.getByRole('button', { name: 'Release' }).click();
    await card.getByRole('status').filter({ hasText: 'Released: others of its roles may claim it.' }).waitFor();
    await card.getByRole('button', { name: 'Claim' }).click();
    await card.getByRole('status').filter({ hasText: 'Claimed: it is yours to do.' }).waitFor();
    expect(
      (await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess'))).body.tasks[0].events.map((e: { action: string }) => e.action),
    ).toEqual(['claim', 'release', 'claim']);

    // The evidence form, generated from the task's JSON Schema: a serial that is no serial is refused at its field.
    const form = card.getByRole('form', { name: /^Evidence for/ });
    await form.getByLabel(/^Removed serial/).fill('WD-OLD-1234');
    await form.getByLabel(/^Installed serial/).fill('no!');
    await form.getByRole('checkbox', { name: /Rebuild started/ }).check();
    await form.getByRole('button', { name: 'Complete' }).click();
    const summary = form.getByRole('alert').filter({ hasText: 'Not completed' });
    await summary.waitFor();
    expect(await summary.textContent()).toMatch(/400/);
    await expect(summary.getByRole('link', { name: 'evidence.installedSerial' }).count()).resolves.toBe(1);
    const installed = form.getByLabel(/^Installed serial/);
    await expect(installed.getAttribute('aria-invalid')).resolves.toBe('true');
    expect(await fran.locator('#field-evidence_installedSerial-errors').textContent()).toContain('must match ^[A-Za-z0-9-]{4,64}$');
    await expect(form.getByLabel(/^Removed serial/).getAttribute('aria-invalid')).resolves.toBeNull();
    await browser.screenshot(fran, 'task-evidence-400-at-field');
    await expectAccessible(fran);
    const stillOpen = (await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess'))).body as RunState;
    expect(stillOpen.tasks?.[0]).toMatchObject({ state: 'claimed', claimedBy: { id: 'fran' } });

    await installed.fill('WD-NEW-5678');
    await form.getByLabel('Comment').fill('array rebuilding');
    await form.getByRole('button', { name: 'Complete' }).click();
    await card.getByRole('status').filter({ hasText: 'Completed: the task is done' }).waitFor();

    // The run finishes on its page.
    await card.getByRole('link', { name: runId }).click();
    await waitForRunStatus(fran, 'succeeded');
    await browser.screenshot(fran, 'task-run-succeeded');
    // Said outright if the API does not answer 200 (CI once saw a body without a status here; not reproduced alone).
    const ended = (await request(api.server).get(`/v1/runs/${runId}`).set(auth('tess')).expect(200)).body as RunState;
    expect(ended.status).toBe('succeeded');
    expect(ended.tasks?.[0]).toMatchObject({
      state: 'done',
      completedBy: { id: 'fran' },
      evidence: { removedSerial: 'WD-OLD-1234', installedSerial: 'WD-NEW-5678', rebuildStarted: true },
    });
  });
});
