import { loadApiConfig } from '@runbooks/api';
import { ScheduleNotFoundError, type Client, type Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Store } from '@runbooks/store';
import request from 'supertest';
import { testClient } from '../harness/worker';
import { auth, repoRoot, startTestApi, type TestApi } from './app';

/**
 * The maintenance calendar through the API (a file the worker reads too), and what POST /v1/runs
 * makes of it for a security-patching run. No worker serves the API's task queue: launched runs
 * stay running and are terminated in afterAll.
 */
let api: TestApi;
let temporal: { client: Client; connection: Connection };
let dir: string;
const started: string[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'api-maintenance-'));
  [api, temporal] = await Promise.all([startTestApi(), testClient()]);
});
afterAll(async () => {
  await Promise.all(
    started.map((id) =>
      temporal.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined),
    ),
  );
  await api?.app.close();
  await temporal?.connection.close();
  await fs.rm(dir, { recursive: true, force: true });
});

type Who = Parameters<typeof auth>[0];

function putWindow(name: string, body: Record<string, unknown>, who: Who = 'sam') {
  return request(api.server).put(`/v1/maintenance/windows/${name}`).set(auth(who)).send(body);
}

function putFreeze(name: string, body: Record<string, unknown>, who: Who = 'sam') {
  return request(api.server).put(`/v1/maintenance/freezes/${name}`).set(auth(who)).send(body);
}

function calendar(query = '', who: Who = 'tess') {
  return request(api.server).get(`/v1/maintenance${query}`).set(auth(who));
}

function launchPatching(input: Record<string, unknown>, who: Who = 'tess') {
  return request(api.server)
    .post('/v1/runs')
    .set(auth(who))
    .send({
      runbook: 'security-patching',
      input: { targets: { tags: ['lab'] }, patches: [{ package: 'openssl', version: '3.0.15' }], ...input },
    })
    .expect((res) => {
      if (res.body?.runId) started.push(res.body.runId);
    });
}

/** Sundays 01:00-05:00 in Berlin. */
const sundayNight = { opens: '0 1 * * 0', timezone: 'Europe/Berlin', durationSeconds: 4 * 3600, description: 'Sunday night' };

describe('maintenance windows', () => {
  afterAll(async () => {
    await request(api.server).delete('/v1/maintenance/windows/sunday-night').set(auth('sam'));
  });

  it('stores a window a scheduler PUTs; GET shows it to any principal with its verdict (open or not, why, until when)', async () => {
    const put = await putWindow('sunday-night', sundayNight).expect(200);
    expect(put.body).toMatchObject({
      name: 'sunday-night',
      ...sundayNight,
      verdict: { open: expect.any(Boolean), reason: expect.any(String) },
    });
    expect(await api.app.get(Store).calendar.read()).toMatchObject({
      windows: [JSON.stringify({ name: 'sunday-night', ...sundayNight })],
      freezes: [],
    });

    // Sunday 2026-11-22 02:00 in Berlin (CET, UTC+1): open until 05:00 CET.
    const during = await calendar('?at=2026-11-22T01:00:00Z').expect(200);
    expect(during.body).toEqual({
      evaluatedAt: '2026-11-22T01:00:00.000Z',
      verdict: { open: true, reason: expect.stringMatching(/no maintenance window required/) },
      windows: [
        {
          name: 'sunday-night',
          ...sundayNight,
          verdict: {
            open: true,
            reason: 'maintenance window sunday-night is open until 2026-11-22T04:00:00.000Z',
            until: '2026-11-22T04:00:00.000Z',
          },
        },
      ],
      freezes: [],
    });
    // Monday: closed, until it next opens on Sunday 2026-11-29 01:00 CET.
    const after = await calendar('?at=2026-11-23T12:00:00Z', 'alex').expect(200);
    expect(after.body.windows[0].verdict).toEqual({
      open: false,
      reason: expect.stringMatching(/^maintenance window sunday-night opens at 2026-11-29T00:00:00.000Z/),
      until: '2026-11-29T00:00:00.000Z',
    });
    // Now, whatever now is: a verdict is always there.
    const now = await calendar().expect(200);
    expect(now.body.windows[0].verdict).toEqual(expect.objectContaining({ open: expect.any(Boolean), reason: expect.any(String) }));
  });

  it('replaces a window of the same name, and refuses a name in the body that is not the one in the path', async () => {
    await putWindow('sunday-night', { ...sundayNight, durationSeconds: 3600 }).expect(200);
    expect((await calendar().expect(200)).body.windows).toEqual([expect.objectContaining({ name: 'sunday-night', durationSeconds: 3600 })]);
    const res = await putWindow('sunday-night', { ...sundayNight, name: 'monday-night' }).expect(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['name']);
    await putWindow('sunday-night', { ...sundayNight, name: 'sunday-night' }).expect(200);
  });

  it('refuses an invalid window with 400 naming the field: bad timezone, unreadable cron; writes nothing', async () => {
    const zone = await putWindow('bad-zone', { ...sundayNight, timezone: 'Europe/Atlantis' }).expect(400);
    expect(zone.body.issues).toEqual([{ path: 'timezone', message: expect.stringMatching(/IANA time zone/) }]);
    const cron = await putWindow('bad-cron', { ...sundayNight, opens: 'every sunday at one' }).expect(400);
    expect(cron.body.issues.map((i: { path: string }) => i.path)).toEqual(['opens']);
    const duration = await putWindow('bad-duration', { ...sundayNight, durationSeconds: 0 }).expect(400);
    expect(duration.body.issues.map((i: { path: string }) => i.path)).toEqual(['durationSeconds']);
    const names = (await calendar().expect(200)).body.windows.map((w: { name: string }) => w.name);
    expect(names).not.toContain('bad-zone');
    expect(names).not.toContain('bad-cron');
  });

  it('lets only a scheduler or an admin change the calendar (403 for a technician)', async () => {
    const res = await putWindow('tess-window', sundayNight, 'tess').expect(403);
    expect(res.body.message).toMatch(/needs the role scheduler or admin/);
    await putWindow('ada-window', sundayNight, 'ada').expect(200);
    await request(api.server).delete('/v1/maintenance/windows/ada-window').set(auth('tess')).expect(403);
    await request(api.server).delete('/v1/maintenance/windows/ada-window').set(auth('ada')).expect(204);
    await request(api.server).delete('/v1/maintenance/windows/ada-window').set(auth('ada')).expect(404);
    expect((await calendar().expect(200)).body.windows.map((w: { name: string }) => w.name)).toEqual(['sunday-night']);
  });
});

describe('POST /v1/runs for security-patching under the calendar', () => {
  it('accepts a launch during a change freeze (201) and says it waits, naming the freeze and until when', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const put = await putFreeze('incident-freeze', { periods: [{ from, to, reason: 'major incident' }] }).expect(200);
    expect(put.body).toEqual({ name: 'incident-freeze', periods: [{ from, to, reason: 'major incident' }] });
    try {
      const shown = await calendar().expect(200);
      expect(shown.body.freezes).toEqual([put.body]);
      expect(shown.body.verdict).toEqual({
        open: false,
        reason: expect.stringMatching(/^change freeze incident-freeze/),
        until: new Date(to).toISOString(),
      });

      const res = await launchPatching({}).expect(201);
      expect(res.body).toMatchObject({ runbook: 'security-patching', status: 'running' });
      expect(res.body.waitsForWindow).toEqual({
        reason: `change freeze incident-freeze (major incident) until ${new Date(to).toISOString()}`,
        until: new Date(to).toISOString(),
      });
      // The run was started all the same.
      expect((await temporal.client.workflow.getHandle(res.body.runId).describe()).status.name).toBe('RUNNING');

      // An admin's override goes through the freeze: no wait.
      const overridden = await launchPatching({ windowOverride: { reason: 'CVE-2026-0001 is being exploited' } }, 'ada').expect(201);
      expect(overridden.body.waitsForWindow).toBeUndefined();
    } finally {
      await request(api.server).delete('/v1/maintenance/freezes/incident-freeze').set(auth('sam')).expect(204);
    }
    await request(api.server).delete('/v1/maintenance/freezes/incident-freeze').set(auth('sam')).expect(404);
  });

  it('refuses input.windowOverride from a technician with 403 naming input.windowOverride', async () => {
    const res = await launchPatching({ windowOverride: { reason: 'in a hurry' } }, 'tess').expect(403);
    expect(res.body.message).toMatch(/^input\.windowOverride: only an admin/);
    expect(res.body.issues).toEqual([{ path: 'input.windowOverride', message: expect.stringMatching(/only an admin/) }]);
    expect(res.body.runId).toBeUndefined();
  });

  it('says the run waits for its closed window until it opens, and starts with no wait when nothing holds it', async () => {
    // Opens on 1 January at 00:00 UTC only: closed now (unless it is New Year's hour).
    await putWindow('new-year', { opens: '0 0 1 1 *', timezone: 'UTC', durationSeconds: 3600 }).expect(200);
    const verdict = (await calendar().expect(200)).body.windows.find((w: { name: string }) => w.name === 'new-year').verdict;
    const res = await launchPatching({ maintenanceWindow: 'new-year' }).expect(201);
    if (verdict.open) {
      expect(res.body.waitsForWindow).toBeUndefined();
    } else {
      expect(res.body.waitsForWindow).toEqual({
        reason: expect.stringMatching(/^maintenance window new-year opens at /),
        until: verdict.until,
      });
      expect(Date.parse(verdict.until)).toBeGreaterThan(Date.now());
    }
    const free = await launchPatching({}).expect(201);
    expect(free.body.waitsForWindow).toBeUndefined();
  });

  it('refuses an unknown maintenance window with 400 naming input.maintenanceWindow', async () => {
    const res = await launchPatching({ maintenanceWindow: 'no-such-window' }).expect(400);
    expect(res.body.issues).toEqual([
      { path: 'input.maintenanceWindow', message: expect.stringMatching(/no maintenance window named no-such-window/) },
    ]);
  });

  it('refuses an invalid freeze with 400 naming the field', async () => {
    const res = await putFreeze('backwards', { periods: [{ from: '2026-12-24T00:00:00Z', to: '2026-12-20T00:00:00Z' }] }).expect(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['periods.0.to']);
  });
});

describe('schedules of security-patching', () => {
  it('holds a schedule to the launch rules when its input is set: override for admins only, the window must exist', async () => {
    const id = `patch-nightly-${randomBytes(4).toString('hex')}`;
    const body = (input: Record<string, unknown>) => ({
      id,
      runbook: 'security-patching',
      input: { targets: { tags: ['lab'] }, patches: [{ package: 'openssl', version: '3.0.15' }], ...input },
      spec: { cron: ['0 2 * * 0'], timezone: 'Europe/Berlin' },
      paused: true,
    });
    try {
      const forbidden = await request(api.server)
        .post('/v1/schedules')
        .set(auth('sam'))
        .send(body({ windowOverride: { reason: 'always' } }))
        .expect(403);
      expect(forbidden.body.issues.map((i: { path: string }) => i.path)).toEqual(['input.windowOverride']);
      const unknown = await request(api.server)
        .post('/v1/schedules')
        .set(auth('sam'))
        .send(body({ maintenanceWindow: 'no-such-window' }))
        .expect(400);
      expect(unknown.body.issues.map((i: { path: string }) => i.path)).toEqual(['input.maintenanceWindow']);
      await expect(temporal.client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

      // The same rules on PATCH; an admin may set the override.
      await request(api.server).post('/v1/schedules').set(auth('sam')).send(body({})).expect(201);
      await request(api.server)
        .patch(`/v1/schedules/${id}`)
        .set(auth('sam'))
        .send({ input: body({ windowOverride: { reason: 'always' } }).input })
        .expect(403);
      const byAdmin = await request(api.server)
        .patch(`/v1/schedules/${id}`)
        .set(auth('ada'))
        .send({ input: body({ windowOverride: { reason: 'emergency patch day' } }).input })
        .expect(200);
      expect(byAdmin.body.input.windowOverride).toEqual({ reason: 'emergency patch day' });
    } finally {
      await temporal.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    }
  });
});

describe('configuration', () => {
  it('resolves the calendar file to import like the inventory: RUNBOOKS_CALENDAR_FILE, else $RUNBOOKS_DATA_DIR/calendar.json, else <repo>/data/calendar.json', () => {
    expect(
      loadApiConfig({ RUNBOOKS_CALENDAR_FILE: '/etc/runbooks/calendar.json', RUNBOOKS_DATA_DIR: '/var/lib/runbooks' }).calendarFile,
    ).toBe('/etc/runbooks/calendar.json');
    expect(loadApiConfig({ RUNBOOKS_DATA_DIR: '/var/lib/runbooks' }).calendarFile).toBe('/var/lib/runbooks/calendar.json');
    expect(loadApiConfig({}).calendarFile).toBe(path.join(repoRoot, 'data', 'calendar.json'));
  });
});
