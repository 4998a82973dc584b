import { useState } from 'preact/hooks';
import { encode } from '../api';
import { formatTime, getJson, useLoad } from '../data';
import { href } from '../router';
import type { MaintenanceView, ScheduleDetail, ScheduleSummary } from '../types';
import { ErrorNote, Section, Status, Table } from '../ui';

interface CalendarEvent {
  kind: 'fire' | 'window' | 'freeze';
  label: string;
  start: number;
  end?: number;
}

/** Monday 00:00 (the viewer's time zone) of the week holding `t`. */
function weekStart(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d.getTime();
}

function addDays(t: number, days: number): number {
  const d = new Date(t);
  d.setDate(d.getDate() + days);
  return d.getTime();
}

/**
 * When each maintenance window is open during [from, to), as the API itself decides: each
 * verdict says until when it holds, so the calendar asks again at that instant (time zones,
 * DST and freezes are the server's, never recomputed here).
 */
async function windowIntervals(from: number, to: number): Promise<CalendarEvent[]> {
  const events: CalendarEvent[] = [];
  const openSince = new Map<string, number>();
  let t = from;
  for (let asked = 0; asked < 100 && t < to; asked++) {
    const view = await getJson<MaintenanceView>(`/v1/maintenance?at=${encode(new Date(t).toISOString())}`);
    let next = Infinity;
    for (const w of view.windows) {
      const since = openSince.get(w.name);
      if (w.verdict.open && since === undefined) openSince.set(w.name, t);
      if (!w.verdict.open && since !== undefined) {
        events.push({ kind: 'window', label: `window ${w.name} open`, start: since, end: t });
        openSince.delete(w.name);
      }
      const until = w.verdict.until ? Date.parse(w.verdict.until) : Infinity;
      if (until > t) next = Math.min(next, until);
    }
    if (!Number.isFinite(next)) break;
    t = next;
  }
  for (const [name, since] of openSince) events.push({ kind: 'window', label: `window ${name} open`, start: since, end: to });
  return events;
}

async function loadWeek(from: number, to: number) {
  const [schedules, maintenance] = await Promise.all([
    getJson<{ schedules: ScheduleSummary[] }>('/v1/schedules'),
    getJson<MaintenanceView>('/v1/maintenance'),
  ]);
  const details = await Promise.all(
    schedules.schedules.map((s) =>
      getJson<ScheduleDetail>(`/v1/schedules/${encode(s.id)}?next=50&from=${encode(new Date(from).toISOString())}`),
    ),
  );
  const events: CalendarEvent[] = [];
  for (const d of details) {
    for (const f of d.nextFireTimes) {
      const t = Date.parse(f);
      if (t < to) events.push({ kind: 'fire', label: `${d.id} runs ${d.runbook}${d.paused ? ' (paused)' : ''}`, start: t });
    }
  }
  for (const f of maintenance.freezes) {
    for (const p of f.periods) {
      const [start, end] = [Date.parse(p.from), Date.parse(p.to)];
      if (start < to && end > from)
        events.push({ kind: 'freeze', label: `freeze ${f.name}${p.reason ? `: ${p.reason}` : ''}`, start, end });
    }
  }
  events.push(...(await windowIntervals(from, to)));
  return { schedules: schedules.schedules, maintenance, events };
}

const time = (t: number) => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/** Schedules and the maintenance calendar: next fire times, windows and freezes on a week. */
export function Calendar() {
  const [from, setFrom] = useState(() => weekStart(Date.now()));
  const to = addDays(from, 7);
  const week = useLoad(`week:${from}`, () => loadWeek(from, to));
  const days = Array.from({ length: 7 }, (_, i) => addDays(from, i));
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  return (
    <>
      <h1 tabIndex={-1}>Schedules and maintenance</h1>
      <div class="actions" role="group" aria-label="Week">
        <button type="button" class="secondary" onClick={() => setFrom(addDays(from, -7))}>
          Previous week
        </button>
        <button type="button" class="secondary" onClick={() => setFrom(weekStart(Date.now()))}>
          This week
        </button>
        <button type="button" class="secondary" onClick={() => setFrom(addDays(from, 7))}>
          Next week
        </button>
      </div>
      <ErrorNote error={week.error} />
      <Section title={`Week of ${new Date(from).toLocaleDateString(undefined, { dateStyle: 'long' })} (times in ${zone})`} id="week">
        <p class="legend">
          <span class="ev ev-fire">scheduled run</span> <span class="ev ev-window">maintenance window open</span>{' '}
          <span class="ev ev-freeze">change freeze</span>
        </p>
        <div class="week">
          {days.map((day) => {
            const end = addDays(day, 1);
            const today = Date.now() >= day && Date.now() < end;
            const events = (week.data?.events ?? [])
              .filter((e) => (e.end ?? e.start + 1) > day && e.start < end)
              .sort((a, b) => a.start - b.start);
            const headingId = `day-${day}`;
            return (
              <section class={`day${today ? ' today' : ''}`} aria-labelledby={headingId} key={day}>
                <h3 id={headingId}>
                  {new Date(day).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' })}
                  {today ? ' (today)' : ''}
                </h3>
                {events.length ? (
                  <ul>
                    {events.map((e, i) => (
                      <li key={i} class={`ev ev-${e.kind}`}>
                        {e.end === undefined
                          ? time(e.start)
                          : `${e.start <= day ? '…' : time(e.start)}–${e.end >= end ? '…' : time(e.end)}`}{' '}
                        {e.label}
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p class="empty">{week.loading ? 'Loading…' : 'Nothing'}</p>
                )}
              </section>
            );
          })}
        </div>
      </Section>

      <Section title="Schedules">
        <Table columns={['Schedule', 'Runbook', 'State', 'Next fire time', 'Note']}>
          {(week.data?.schedules ?? []).map((s) => (
            <tr key={s.id}>
              <th scope="row">
                <a href={`${href('runs')}?scheduleId=${encode(s.id)}`}>{s.id}</a>
              </th>
              <td>{s.runbook}</td>
              <td>
                <Status value={s.paused ? 'paused' : 'active'} />
              </td>
              <td>{formatTime(s.nextFireTime)}</td>
              <td>{s.note}</td>
            </tr>
          ))}
        </Table>
        {week.data && week.data.schedules.length === 0 ? <p>No schedules.</p> : null}
      </Section>

      <Section title="Maintenance windows">
        {week.data ? (
          <>
            <p>
              Without a window:{' '}
              {week.data.maintenance.verdict.open ? 'changes allowed' : `closed — ${week.data.maintenance.verdict.reason}`}
              {week.data.maintenance.verdict.until ? ` until ${formatTime(week.data.maintenance.verdict.until)}` : ''}.
            </p>
            <Table columns={['Window', 'Opens (cron)', 'Time zone', 'Open for', 'Now']}>
              {week.data.maintenance.windows.map((w) => (
                <tr key={w.name}>
                  <th scope="row">{w.name}</th>
                  <td>
                    <code>{w.opens}</code>
                  </td>
                  <td>{w.timezone}</td>
                  <td>{Math.round(w.durationSeconds / 60)} min</td>
                  <td>
                    <Status value={w.verdict.open ? 'open' : 'closed'} /> {w.verdict.reason}
                    {w.verdict.until ? ` (until ${formatTime(w.verdict.until)})` : ''}
                  </td>
                </tr>
              ))}
            </Table>
            <h3>Change freezes</h3>
            {week.data.maintenance.freezes.length ? (
              <ul>
                {week.data.maintenance.freezes.flatMap((f) =>
                  f.periods.map((p) => (
                    <li key={f.name + p.from}>
                      <strong>{f.name}</strong>: {formatTime(p.from)} to {formatTime(p.to)}
                      {p.reason ? ` — ${p.reason}` : ''}
                    </li>
                  )),
                )}
              </ul>
            ) : (
              <p>No freezes.</p>
            )}
          </>
        ) : null}
      </Section>
    </>
  );
}
