import type { Principal } from '@runbooks/contracts';
import { optionalDateToTs, optionalTsToDate } from '@temporalio/common/lib/time';
import { RequestValidationError } from '../http/errors';
import type { RunAdmission } from '../runs/admission';
import type { CallerAssertions } from '../signing/caller-assertions';
import type { TemporalService } from '../temporal/temporal.service';
import { MAX_BACKFILL_RUNS } from './schedules.routes';
import { SchedulesService } from './schedules.service';

const HOUR = 3_600_000;
const start = '2026-11-01T00:00:00.000Z';
const sam: Principal = { id: 'sam', displayName: 'Sam', roles: ['scheduler'] };

/**
 * The service against a Temporal stand-in whose schedule fires every hour. Its
 * ListScheduleMatchingTimes answers as the server's does, the times in (startTime, endTime]; the
 * integration test (test/src/api/schedules.test.ts) checks a backfill against the real server.
 */
function serviceOverHourlySchedule() {
  const backfills: unknown[] = [];
  const asked: { startTime: number; endTime: number }[] = [];
  type Timestamp = ReturnType<typeof optionalDateToTs>;
  const ms = (ts: Timestamp) => (optionalTsToDate(ts) as Date).getTime();
  const handle = {
    scheduleId: 'hourly',
    describe: async () => ({ typedSearchAttributes: { get: () => 'data-restore' }, action: { taskQueue: 'runbooks' } }),
    backfill: async (options: unknown) => void backfills.push(options),
  };
  const temporal = {
    taskQueue: 'runbooks',
    namespace: 'default',
    clientFor: () => ({ schedule: { getHandle: () => handle } }),
    call: (_kind: string, send: () => Promise<unknown>) => send(),
    connection: {
      workflowService: {
        listScheduleMatchingTimes: async (request: { startTime: Timestamp; endTime: Timestamp }) => {
          const [from, until] = [ms(request.startTime), ms(request.endTime)];
          asked.push({ startTime: from, endTime: until });
          const times = [];
          for (let t = Math.floor(from / HOUR) * HOUR + HOUR; t <= until && times.length < 1000; t += HOUR)
            times.push(optionalDateToTs(new Date(t)));
          return { startTime: times };
        },
      },
    },
  } as unknown as TemporalService;
  const service = new SchedulesService(temporal, {} as RunAdmission, {} as CallerAssertions);
  return { service, backfills, asked };
}

describe('backfill cap', () => {
  const end = (fireTimes: number) => new Date(Date.parse(start) + (fireTimes - 1) * HOUR).toISOString();

  it(`starts a backfill of exactly ${MAX_BACKFILL_RUNS} fire times, both ends counted`, async () => {
    const { service, backfills, asked } = serviceOverHourlySchedule();
    await expect(service.backfill(sam, 'hourly', { start, end: end(MAX_BACKFILL_RUNS), overlap: 'allow_all' })).resolves.toMatchObject({
      action: 'backfill',
    });
    expect(backfills).toHaveLength(1);
    expect(asked).toEqual([{ startTime: Date.parse(start) - 1, endTime: Date.parse(end(MAX_BACKFILL_RUNS)) }]);
  });

  it(`refuses one fire time more with a 400 on end, and starts nothing`, async () => {
    const { service, backfills } = serviceOverHourlySchedule();
    const refused = service.backfill(sam, 'hourly', { start, end: end(MAX_BACKFILL_RUNS + 1), overlap: 'allow_all' });
    await expect(refused).rejects.toBeInstanceOf(RequestValidationError);
    await expect(refused).rejects.toMatchObject({ issues: [{ path: 'end', message: expect.stringMatching(/split it$/) }] });
    expect(backfills).toHaveLength(0);
  });
});
