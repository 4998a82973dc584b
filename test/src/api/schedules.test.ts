import {
  AwaitingApprovalAttr,
  RUN_MEMO,
  RequestedByAttr,
  RunStatusAttr,
  RunbookNameAttr,
  ScheduleIdAttr,
  dataRestoreRunbook,
  type RunbookStartArgs,
} from '@runbooks/contracts';
import { ScheduleNotFoundError, type Client, type Connection } from '@temporalio/client';
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { canonicalJson } from '../../../apps/api/src/runs/runs.service';
import { MAX_BACKFILL_RUNS } from '../../../apps/api/src/schedules/schedules.routes';
import { eventually, payloadValue, testClient } from '../harness/worker';
import { auth, restoreInput, startTestApi, type TestApi } from './app';

/**
 * Schedules through the API, checked against the Temporal dev server. No worker serves the API's
 * task queue: a run a schedule starts stays running (it is terminated in afterAll), which is all
 * these tests need to see that it was started, and with what.
 */
let api: TestApi;
let temporal: { client: Client; connection: Connection };
const created: string[] = [];

beforeAll(async () => {
  [api, temporal] = await Promise.all([startTestApi(), testClient()]);
});
afterAll(async () => {
  for (const id of created) {
    await temporal.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
    for await (const run of temporal.client.workflow.list({ query: `ScheduleId = '${id}' AND ExecutionStatus = 'Running'` })) {
      await temporal.client.workflow
        .getHandle(run.workflowId)
        .terminate('test done')
        .catch(() => undefined);
    }
  }
  await api?.app.close();
  await temporal?.connection.close();
});

type Who = Parameters<typeof auth>[0];

/** A schedule id no other test (or earlier run on the same server) uses. */
function scheduleId(name: string): string {
  const id = `${name}-${randomBytes(4).toString('hex')}`;
  created.push(id);
  return id;
}

function createSchedule(body: Record<string, unknown>, who: Who = 'sam') {
  return request(api.server).post('/v1/schedules').set(auth(who)).send(body);
}

function dailyRestore(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, runbook: 'data-restore', input: restoreInput(), spec: { cron: ['0 3 * * *'], timezone: 'Europe/Berlin' }, ...overrides };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function startArgsOf(runId: string): Promise<RunbookStartArgs> {
  const history = await temporal.client.workflow.getHandle(runId).fetchHistory();
  const started = history.events![0].workflowExecutionStartedEventAttributes!;
  return payloadValue(started.input!.payloads![0]) as RunbookStartArgs;
}

/** The run ids Temporal visibility holds for a schedule (by the ScheduleId search attribute). */
async function runsOf(id: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of temporal.client.workflow.list({ query: `ScheduleId = '${id}'` })) ids.push(run.workflowId);
  return ids.sort();
}

describe('POST /v1/schedules', () => {
  it('creates a Temporal schedule that starts the runbook workflow with the validated input, as the creator', async () => {
    const id = scheduleId('nightly-restore');
    const res = await createSchedule(
      dailyRestore(id, {
        spec: { cron: ['30 2 * * *'], timezone: 'Europe/Berlin', jitterSeconds: 30, endAt: '2099-01-01T00:00:00Z' },
        policies: { overlap: 'buffer_one', catchupWindowSeconds: 600, pauseOnFailure: true },
        note: 'nightly restore drill',
        paused: true,
      }),
    ).expect(201);
    expect(res.headers.location).toBe(`/v1/schedules/${id}`);
    const parsedInput = dataRestoreRunbook.inputSchema.parse(restoreInput());
    expect(res.body).toMatchObject({
      id,
      runbook: 'data-restore',
      workflowType: 'dataRestore',
      taskQueue: api.taskQueue,
      input: parsedInput,
      requestedBy: 'sam',
      createdBy: 'sam',
      spec: { cron: ['30 2 * * *'], timezone: 'Europe/Berlin', jitterSeconds: 30, endAt: '2099-01-01T00:00:00Z' },
      policies: { overlap: 'buffer_one', catchupWindowSeconds: 600, pauseOnFailure: true },
      paused: true,
      note: 'nightly restore drill',
      recentActions: [],
      runs: { total: 0 },
      links: { self: `/v1/schedules/${id}`, runs: `/v1/runs?scheduleId=${id}` },
    });
    expect(res.body.nextFireTimes).toHaveLength(10);

    const described = await temporal.client.schedule.getHandle(id).describe();
    expect(described.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'dataRestore',
      taskQueue: api.taskQueue,
      workflowId: `data-restore-sched-${id}`,
    });
    const [args] = described.action.args as [RunbookStartArgs];
    expect(args).toEqual({
      input: parsedInput,
      requestedBy: { id: 'sam', displayName: 'Sam Scheduler' },
      // Who set the input, with roles: signed by the API when it holds assertion keys (this test API does not).
      principal: { id: 'sam', displayName: 'Sam Scheduler', roles: ['scheduler'] },
      scheduleId: id,
      inputSha256: sha256(canonicalJson(parsedInput)),
    });
    expect(res.body.inputSha256).toBe(args.inputSha256);
    const runAttrs = described.action.typedSearchAttributes!;
    expect(runAttrs.get(RunbookNameAttr)).toBe('data-restore');
    expect(runAttrs.get(RequestedByAttr)).toBe('sam');
    expect(runAttrs.get(RunStatusAttr)).toBe('running');
    expect(runAttrs.get(AwaitingApprovalAttr)).toBe(false);
    expect(runAttrs.get(ScheduleIdAttr)).toBe(id);
    expect(described.action.memo).toMatchObject({ [RUN_MEMO.inputSha256]: args.inputSha256 });
    expect(described.typedSearchAttributes.get(ScheduleIdAttr)).toBe(id);
    expect(described.memo).toMatchObject({ runbook: 'data-restore', createdBy: 'sam', inputSha256: args.inputSha256 });
    expect(described.spec).toMatchObject({ timezone: 'Europe/Berlin', jitter: 30_000, endAt: new Date('2099-01-01T00:00:00Z') });
    expect(described.spec.calendars).toEqual([
      expect.objectContaining({ hour: [{ start: 2, end: 2, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] }),
    ]);
    expect(described.policies).toEqual({ overlap: 'BUFFER_ONE', catchupWindow: 600_000, pauseOnFailure: true });
    expect(described.state).toMatchObject({ paused: true, note: 'nightly restore drill' });
  });

  it('maps calendars given as range strings to Temporal calendars', async () => {
    const id = scheduleId('weekday-calendar');
    await createSchedule(
      dailyRestore(id, { spec: { calendars: [{ minute: '0,30', hour: '1-5', dayOfWeek: 'mon-fri', comment: 'weekday nights' }] } }),
    ).expect(201);
    const described = await temporal.client.schedule.getHandle(id).describe();
    expect(described.spec.calendars).toEqual([
      expect.objectContaining({
        minute: [
          { start: 0, end: 0, step: 1 },
          { start: 30, end: 30, step: 1 },
        ],
        hour: [{ start: 1, end: 5, step: 1 }],
        dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
        comment: 'weekday nights',
      }),
    ]);
    const got = await request(api.server).get(`/v1/schedules/${id}`).set(auth('tess')).expect(200);
    // Every fire time is a weekday at 01:00-05:59 UTC, on the hour or the half hour.
    for (const t of got.body.nextFireTimes as string[]) {
      const d = new Date(t);
      expect([1, 2, 3, 4, 5]).toContain(d.getUTCDay());
      expect(d.getUTCHours()).toBeGreaterThanOrEqual(1);
      expect(d.getUTCHours()).toBeLessThanOrEqual(5);
      expect([0, 30]).toContain(d.getUTCMinutes());
    }
  });

  it('refuses a bad runbook input at creation with 400 naming input.<field>, and creates nothing', async () => {
    const id = scheduleId('bad-input');
    const input = restoreInput({ repository: { url: '/srv/backups/restic', passwordRef: 'hunter2-literal' } });
    const res = await createSchedule(dailyRestore(id, { input })).expect(400);
    expect(res.body.issues).toEqual([{ path: 'input.repository.passwordRef', message: expect.stringMatching(/secret reference/) }]);
    await expect(temporal.client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await request(api.server).get(`/v1/schedules/${id}`).set(auth('sam')).expect(404);
  });

  it('refuses a spec Temporal cannot compile with 400 naming spec.cron, and a bad calendar field by its path', async () => {
    const id = scheduleId('bad-cron');
    const cron = await createSchedule(dailyRestore(id, { spec: { cron: ['61 3 * * *'] } })).expect(400);
    expect(cron.body.issues).toEqual([{ path: 'spec.cron', message: expect.stringMatching(/Minute is not in range/) }]);
    const calendar = await createSchedule(dailyRestore(id, { spec: { calendars: [{ hour: '3' }, { hour: '24' }] } })).expect(400);
    expect(calendar.body.issues).toEqual([{ path: 'spec.calendars.1.hour', message: '24 is out of range 0-23' }]);
    const zone = await createSchedule(dailyRestore(id, { spec: { cron: ['0 3 * * *'], timezone: 'Mars/Olympus' } })).expect(400);
    expect(zone.body.issues.map((i: { path: string }) => i.path)).toEqual(['spec.timezone']);
    await expect(temporal.client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('answers 404 for an unknown runbook and 409 for an id already taken', async () => {
    const id = scheduleId('taken');
    await createSchedule(dailyRestore(id, { runbook: 'no-such-runbook' })).expect(404);
    await createSchedule(dailyRestore(id)).expect(201);
    const again = await createSchedule(dailyRestore(id, { note: 'second' })).expect(409);
    expect(again.body.message).toBe(`schedule ${id} already exists`);
    expect((await temporal.client.schedule.getHandle(id).describe()).state.note).toBe('');
  });

  it('lets a scheduler and an admin create, refuses a technician (403) and an approver, and creates nothing for them', async () => {
    const byTess = scheduleId('by-tess');
    const res = await createSchedule(dailyRestore(byTess), 'tess').expect(403);
    expect(res.body.message).toMatch(/needs the role scheduler or admin/);
    await createSchedule(dailyRestore(byTess), 'alex').expect(403);
    await expect(temporal.client.schedule.getHandle(byTess).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await createSchedule(dailyRestore(scheduleId('by-sam')), 'sam').expect(201);
    await createSchedule(dailyRestore(scheduleId('by-ada')), 'ada').expect(201);
  });
});

describe('GET /v1/schedules', () => {
  it('lists the schedule with its runbook, state, note and next fire time; any principal may read', async () => {
    const id = scheduleId('listed');
    const created = await createSchedule(dailyRestore(id, { note: 'list me', paused: true })).expect(201);
    const listed = await eventually(
      async () => {
        const res = await request(api.server).get('/v1/schedules').set(auth('tess')).expect(200);
        return (res.body.schedules as { id: string }[]).find((s) => s.id === id);
      },
      15_000,
      'the schedule to show in the listing',
    );
    expect(listed).toEqual({
      id,
      runbook: 'data-restore',
      paused: true,
      note: 'list me',
      nextFireTime: created.body.nextFireTimes[0],
      links: { self: `/v1/schedules/${id}`, runs: `/v1/runs?scheduleId=${id}` },
    });
    const other = await request(api.server).get('/v1/schedules?runbook=security-patching').set(auth('tess')).expect(200);
    expect(other.body.schedules.map((s: { id: string }) => s.id)).not.toContain(id);
  });

  it('shows the next N fire times (next=1..50), beyond the 10 Temporal describes, in order and after now', async () => {
    const id = scheduleId('next-times');
    await createSchedule(dailyRestore(id, { spec: { cron: ['0 * * * *'] } })).expect(201);
    const before = Date.now();
    const res = await request(api.server).get(`/v1/schedules/${id}?next=25`).set(auth('alex')).expect(200);
    const times = (res.body.nextFireTimes as string[]).map((t) => Date.parse(t));
    expect(times).toHaveLength(25);
    expect(times[0]).toBeGreaterThan(before - 1000);
    times.slice(1).forEach((t, i) => expect(t - times[i]).toBe(3_600_000));
    expect(new Date(times[0]).getUTCMinutes()).toBe(0);
    await request(api.server).get(`/v1/schedules/${id}?next=51`).set(auth('alex')).expect(400);
    await request(api.server)
      .get(`/v1/schedules/no-such-schedule-${randomBytes(3).toString('hex')}`)
      .set(auth('alex'))
      .expect(404);
  });
});

describe('PATCH, pause, unpause and DELETE /v1/schedules/:id', () => {
  it('replaces input, spec, policies and note; the new input is validated and its digest recomputed', async () => {
    const id = scheduleId('patched');
    const before = await createSchedule(dailyRestore(id, { policies: { overlap: 'skip', catchupWindowSeconds: 900 } })).expect(201);

    const bad = await request(api.server)
      .patch(`/v1/schedules/${id}`)
      .set(auth('sam'))
      .send({ input: restoreInput({ path: 'relative/path' }) })
      .expect(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(['input.path']);

    const input = restoreInput({ ticket: 'INC-9999' });
    const res = await request(api.server)
      .patch(`/v1/schedules/${id}`)
      .set(auth('ada'))
      .send({
        input,
        spec: { calendars: [{ hour: '4', minute: '15' }], timezone: 'America/New_York' },
        policies: { pauseOnFailure: true },
        note: 'moved',
      })
      .expect(200);
    expect(res.body).toMatchObject({
      input: { ticket: 'INC-9999' },
      requestedBy: 'ada',
      createdBy: 'sam',
      spec: { calendars: [{ hour: '4', minute: '15' }], timezone: 'America/New_York', jitterSeconds: 0 },
      policies: { overlap: 'skip', catchupWindowSeconds: 900, pauseOnFailure: true },
      note: 'moved',
    });
    expect(res.body.inputSha256).not.toBe(before.body.inputSha256);

    const described = await temporal.client.schedule.getHandle(id).describe();
    const [args] = described.action.args as [RunbookStartArgs];
    expect(args.input).toMatchObject({ ticket: 'INC-9999' });
    expect(args.inputSha256).toBe(sha256(canonicalJson(args.input)));
    expect(args.inputSha256).toBe(res.body.inputSha256);
    expect(args).toMatchObject({ scheduleId: id, requestedBy: { id: 'ada' } });
    expect(described.action.typedSearchAttributes!.get(RequestedByAttr)).toBe('ada');
    expect(described.action.typedSearchAttributes!.get(ScheduleIdAttr)).toBe(id);
    expect(described.action.workflowId).toBe(`data-restore-sched-${id}`);
    expect(described.spec.timezone).toBe('America/New_York');
    expect(described.spec.calendars).toEqual([
      expect.objectContaining({ hour: [{ start: 4, end: 4, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] }),
    ]);
    expect(described.policies).toEqual({ overlap: 'SKIP', catchupWindow: 900_000, pauseOnFailure: true });
    expect(described.state.note).toBe('moved');

    await request(api.server).patch(`/v1/schedules/${id}`).set(auth('tess')).send({ note: 'nope' }).expect(403);
  });

  it('pauses and unpauses with a note, as Temporal records it', async () => {
    const id = scheduleId('paused');
    await createSchedule(dailyRestore(id)).expect(201);
    const paused = await request(api.server).post(`/v1/schedules/${id}/pause`).set(auth('sam')).send({ note: 'holiday' }).expect(200);
    expect(paused.body).toMatchObject({ paused: true, note: 'holiday' });
    expect((await temporal.client.schedule.getHandle(id).describe()).state).toMatchObject({ paused: true, note: 'holiday' });

    const unpaused = await request(api.server).post(`/v1/schedules/${id}/unpause`).set(auth('sam')).send({}).expect(200);
    expect(unpaused.body).toMatchObject({ paused: false, note: 'unpaused by sam' });
    expect((await temporal.client.schedule.getHandle(id).describe()).state).toMatchObject({ paused: false, note: 'unpaused by sam' });

    await request(api.server).post(`/v1/schedules/${id}/pause`).set(auth('tess')).send({}).expect(403);
    await request(api.server)
      .post(`/v1/schedules/missing-${randomBytes(3).toString('hex')}/pause`)
      .set(auth('sam'))
      .send({})
      .expect(404);
  });

  it('deletes the schedule from Temporal (204), then answers 404', async () => {
    const id = scheduleId('deleted');
    await createSchedule(dailyRestore(id)).expect(201);
    await request(api.server).delete(`/v1/schedules/${id}`).set(auth('tess')).expect(403);
    await request(api.server).delete(`/v1/schedules/${id}`).set(auth('sam')).expect(204);
    await expect(temporal.client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const res = await request(api.server).get(`/v1/schedules/${id}`).set(auth('sam')).expect(404);
    expect(res.body.message).toBe(`schedule ${id} not found`);
    await request(api.server).delete(`/v1/schedules/${id}`).set(auth('sam')).expect(404);
  });
});

describe('runs started by a schedule', () => {
  it('trigger starts a run now whose arguments carry the scheduleId; GET /v1/runs?scheduleId= finds it', async () => {
    const id = scheduleId('triggered');
    // Paused, and far from its fire time: the only run is the triggered one.
    await createSchedule(dailyRestore(id, { paused: true })).expect(201);
    const res = await request(api.server).post(`/v1/schedules/${id}/trigger`).set(auth('sam')).send({}).expect(202);
    expect(res.body).toMatchObject({ id, action: 'trigger', links: { runs: `/v1/runs?scheduleId=${id}` } });

    const [runId] = await eventually(async () => ((await runsOf(id)).length ? runsOf(id) : undefined), 20_000, 'the triggered run');
    expect(runId).toMatch(new RegExp(`^data-restore-sched-${id}-\\d{4}-\\d\\d-\\d\\dT`));
    const args = await startArgsOf(runId);
    expect(args).toMatchObject({ scheduleId: id, requestedBy: { id: 'sam' }, input: restoreInput() });
    expect(args.inputSha256).toBe(sha256(canonicalJson(args.input)));
    const description = await temporal.client.workflow.getHandle(runId).describe();
    expect(description.taskQueue).toBe(api.taskQueue);
    expect(description.status.name).toBe('RUNNING');

    const listed = await eventually(
      async () => {
        const page = await request(api.server).get(`/v1/runs?scheduleId=${id}`).set(auth('tess')).expect(200);
        return page.body.runs.length ? page.body.runs : undefined;
      },
      15_000,
      'the run in GET /v1/runs?scheduleId=',
    );
    expect(listed).toEqual([
      expect.objectContaining({ runId, scheduleId: id, runbook: 'data-restore', requestedBy: 'sam', status: 'running' }),
    ]);
    const unrelated = await request(api.server).get(`/v1/runs?scheduleId=${id}-other`).set(auth('tess')).expect(200);
    expect(unrelated.body.runs).toEqual([]);

    const shown = await eventually(
      async () => {
        const s = await request(api.server).get(`/v1/schedules/${id}`).set(auth('tess')).expect(200);
        return s.body.runs.total === 1 ? s.body : undefined;
      },
      10_000,
      'the schedule to count the run',
    );
    expect(shown.recentActions).toEqual([{ runId, scheduledAt: expect.any(String), startedAt: expect.any(String) }]);
  });

  it('backfill of a 3-hour range on an hourly schedule starts one run per fire time in it, both ends included', async () => {
    const id = scheduleId('backfilled');
    // Paused so that no live fire adds a run; backfills run on a paused schedule.
    await createSchedule(dailyRestore(id, { spec: { cron: ['0 * * * *'] }, paused: true })).expect(201);
    const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000);
    const end = new Date(start.getTime() + 3 * 3_600_000);
    const res = await request(api.server)
      .post(`/v1/schedules/${id}/backfill`)
      .set(auth('sam'))
      .send({ start: start.toISOString(), end: end.toISOString() })
      .expect(202);
    expect(res.body).toMatchObject({ id, action: 'backfill' });

    // Temporal counts the fire times in [start, end] with both ends included: a range from hh:00 to
    // hh+3:00 holds four hourly fire times (hh, hh+1, hh+2, hh+3), so a "3-hour" backfill starts 4 runs,
    // each with the id of its fire time.
    const expected = [0, 1, 2, 3].map(
      (h) => `data-restore-sched-${id}-${new Date(start.getTime() + h * 3_600_000).toISOString().replace('.000Z', 'Z')}`,
    );
    const runs = await eventually(
      async () => {
        const ids = await runsOf(id);
        return ids.length >= 4 ? ids : undefined;
      },
      20_000,
      'the backfilled runs',
    );
    expect(runs).toEqual(expected);
    for (const runId of runs) expect(await startArgsOf(runId)).toMatchObject({ scheduleId: id });
    const shown = await eventually(
      async () => {
        const s = await request(api.server).get(`/v1/schedules/${id}`).set(auth('sam')).expect(200);
        return s.body.runs.total === 4 ? s.body : undefined;
      },
      10_000,
      'the schedule to count 4 runs',
    );
    expect(shown.recentActions.map((a: { runId: string }) => a.runId)).toEqual(expected);

    const inverted = await request(api.server)
      .post(`/v1/schedules/${id}/backfill`)
      .set(auth('sam'))
      .send({ start: end.toISOString(), end: start.toISOString() })
      .expect(400);
    expect(inverted.body.issues.map((i: { path: string }) => i.path)).toEqual(['end']);

    // One hourly fire time more than a backfill may start (both ends count, as Temporal counts them):
    // refused. That nothing starts, and that exactly the cap is accepted: backfill-cap.spec.ts.
    const tooWide = await request(api.server)
      .post(`/v1/schedules/${id}/backfill`)
      .set(auth('sam'))
      .send({ start: start.toISOString(), end: new Date(start.getTime() + MAX_BACKFILL_RUNS * 3_600_000).toISOString() })
      .expect(400);
    expect(tooWide.body.issues).toEqual([{ path: 'end', message: expect.stringMatching(/more than 100 times .*split it$/) }]);
  });
});

describe('next fire times across DST changes (as Temporal computes them)', () => {
  /** GET the schedule's next fire times after `from` (the days are in the past of a 2026-11 clock, hence `from`). */
  async function fireTimes(id: string, from: string, next: number): Promise<string[]> {
    const res = await request(api.server)
      .get(`/v1/schedules/${id}?from=${encodeURIComponent(from)}&next=${next}`)
      .set(auth('sam'))
      .expect(200);
    return res.body.nextFireTimes;
  }

  async function daily(name: string, cron: string, timezone: string, startAt: string): Promise<string> {
    const id = scheduleId(name);
    await createSchedule(dailyRestore(id, { spec: { cron: [cron], timezone, startAt }, paused: true })).expect(201);
    return id;
  }

  it('Europe/Berlin, daily 02:30: skipped on 2026-03-29 (02:30 does not exist); on 2026-10-25 fired once, at the second 02:30', async () => {
    const id = await daily('berlin-0230', '30 2 * * *', 'Europe/Berlin', '2026-03-27T00:00:00Z');
    expect(await fireTimes(id, '2026-03-27T00:00:00Z', 4)).toEqual([
      '2026-03-27T01:30:00.000Z', // 02:30 CET (UTC+1)
      '2026-03-28T01:30:00.000Z',
      // 2026-03-29: clocks jump 02:00 -> 03:00; no 02:30, no run that day.
      '2026-03-30T00:30:00.000Z', // 02:30 CEST (UTC+2)
      '2026-03-31T00:30:00.000Z',
    ]);
    expect(await fireTimes(id, '2026-10-23T00:00:00Z', 4)).toEqual([
      '2026-10-23T00:30:00.000Z', // 02:30 CEST
      '2026-10-24T00:30:00.000Z',
      // 2026-10-25: 02:00-03:00 happens twice; only the second 02:30 (CET, 01:30Z) fires, not 00:30Z.
      '2026-10-25T01:30:00.000Z',
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('America/New_York, daily 02:30: skipped on 2026-03-08; once on 2026-11-01 (02:30 happens once that day)', async () => {
    const id = await daily('ny-0230', '30 2 * * *', 'America/New_York', '2026-03-06T00:00:00Z');
    expect(await fireTimes(id, '2026-03-06T00:00:00Z', 4)).toEqual([
      '2026-03-06T07:30:00.000Z', // 02:30 EST (UTC-5)
      '2026-03-07T07:30:00.000Z',
      // 2026-03-08: clocks jump 02:00 -> 03:00; no 02:30, no run that day.
      '2026-03-09T06:30:00.000Z', // 02:30 EDT (UTC-4)
      '2026-03-10T06:30:00.000Z',
    ]);
    expect(await fireTimes(id, '2026-10-30T00:00:00Z', 4)).toEqual([
      '2026-10-30T06:30:00.000Z', // 02:30 EDT
      '2026-10-31T06:30:00.000Z',
      '2026-11-01T07:30:00.000Z', // 02:30 EST: the repeated hour is 01:00-02:00, so 02:30 fires once
      '2026-11-02T07:30:00.000Z',
    ]);
  });

  it('America/New_York, daily 01:30: fired twice on 2026-11-01, once per 01:30', async () => {
    const id = await daily('ny-0130', '30 1 * * *', 'America/New_York', '2026-10-30T00:00:00Z');
    expect(await fireTimes(id, '2026-10-30T00:00:00Z', 5)).toEqual([
      '2026-10-30T05:30:00.000Z', // 01:30 EDT
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:30:00.000Z', // 01:30 EST, an hour later: a second run the same night
      '2026-11-02T06:30:00.000Z',
    ]);
  });
});
