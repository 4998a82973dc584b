import { Injectable, InternalServerErrorException, NotFoundException } from '@nestjs/common';
import { CalendarStore } from '@runbooks/activities/api-surface';
import {
  MaintenanceFailureType,
  evaluateWindow,
  parseChangeFreeze,
  parseMaintenanceWindow,
  type CalendarProblem,
} from '@runbooks/maintenance';
import { type ChangeFreeze, type MaintenanceCalendar, type RunbookDefinition, type WindowVerdict } from '@runbooks/contracts';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { Store } from '@runbooks/store';
import type { ApiConfig } from '../config';
import { RequestValidationError } from '../http/errors';
import { preconditioned } from '../store/versions';
import { API_CONFIG } from '../tokens';
import type { CalendarView, WindowView, putFreezeBodySchema, putWindowBodySchema } from './maintenance.routes';

/** The calendar over the shared store (the worker reads the same rows). */
export const calendarStoreProvider = {
  provide: CalendarStore,
  inject: [Store, API_CONFIG],
  useFactory: (store: Store, config: ApiConfig): CalendarStore => new CalendarStore(store, config.calendarFile),
};

/** A result and the calendar version (ETag) it was read at or wrote. */
export interface AtVersion<T> {
  value: T;
  version: number;
}

/** What a launch answers when its run will wait for the window (or a freeze) before changing anything. */
export interface WaitsForWindow {
  reason: string;
  until?: string;
}

/**
 * The maintenance calendar in the store, through CalendarStore (the worker reads the same rows).
 * Its version is the ETag; writes given `expectedVersion` (If-Match) answer 412 when it moved on.
 */
@Injectable()
export class MaintenanceService {
  constructor(private readonly store: CalendarStore) {}

  async calendar(at: Date = new Date()): Promise<AtVersion<CalendarView>> {
    const { value: calendar, version } = await this.read();
    return {
      version,
      value: {
        evaluatedAt: at.toISOString(),
        verdict: verdictOf(calendar, undefined, at),
        windows: calendar.windows.map((w) => ({ ...w, verdict: verdictOf(calendar, w.name, at) })),
        freezes: calendar.freezes,
      },
    };
  }

  async putWindow(name: string, body: z.output<typeof putWindowBodySchema>, expectedVersion?: number): Promise<AtVersion<WindowView>> {
    assertSameName(name, body.name);
    const parsed = validated(() => parseMaintenanceWindow({ ...body, name }));
    const { value: window, version } = await this.write(() => this.store.putWindowVersioned(parsed, expectedVersion));
    const at = new Date();
    return { version, value: { ...window, verdict: verdictOf((await this.read()).value, window.name, at) } };
  }

  async deleteWindow(name: string, expectedVersion?: number): Promise<number> {
    const { value: existed, version } = await this.write(() => this.store.deleteVersioned('window', name, expectedVersion));
    if (!existed) throw new NotFoundException(`no maintenance window named ${name}`);
    return version;
  }

  async putFreeze(name: string, body: z.output<typeof putFreezeBodySchema>, expectedVersion?: number): Promise<AtVersion<ChangeFreeze>> {
    assertSameName(name, body.name);
    const parsed = validated(() => parseChangeFreeze({ ...body, name }));
    return this.write(() => this.store.putFreezeVersioned(parsed, expectedVersion));
  }

  async deleteFreeze(name: string, expectedVersion?: number): Promise<number> {
    const { value: existed, version } = await this.write(() => this.store.deleteVersioned('freeze', name, expectedVersion));
    if (!existed) throw new NotFoundException(`no change freeze named ${name}`);
    return version;
  }

  /**
   * What a launch of `runbook` meets, when its definition names a maintenance window
   * (admission.maintenanceWindow): a window it names must exist (400 naming the field);
   * and when the window (or, with none named, the freezes alone) is closed at the moment the run would
   * begin (now, or input.startAt if later), the run still starts and waits: the reason and until when.
   * A schedule's input is checked the same way when it is set (`whenClosed: false`: no verdict, its
   * runs start later), so a scheduler cannot put an override into runs that start at 2 a.m.
   */
  async admission(
    runbook: RunbookDefinition,
    input: unknown,
    { whenClosed = true }: { whenClosed?: boolean } = {},
  ): Promise<WaitsForWindow | undefined> {
    // The runbook's definition says whether it waits for a window (admission.maintenanceWindow).
    const wait = runbook.admission?.maintenanceWindow?.(input as never);
    if (!wait) return undefined;
    const { name: maintenanceWindow, overridden: windowOverride, startAt } = wait;
    let calendar: MaintenanceCalendar;
    try {
      calendar = await this.store.read();
    } catch (error) {
      // The run holds on a calendar it cannot read; say so rather than refuse the launch.
      return windowOverride || !whenClosed ? undefined : { reason: `the maintenance calendar cannot be read: ${(error as Error).message}` };
    }
    const at = new Date(Math.max(Date.now(), startAt ? Date.parse(startAt) : 0));
    let verdict: WindowVerdict;
    try {
      verdict = evaluateWindow(calendar, maintenanceWindow, at);
    } catch (error) {
      if (isFailure(error, MaintenanceFailureType.windowUnknown)) {
        throw new RequestValidationError('request body', [
          {
            path: ['input', wait.field],
            message: `no maintenance window named ${maintenanceWindow} (GET /v1/maintenance lists them)`,
          },
        ]);
      }
      if (isFailure(error, MaintenanceFailureType.calendarInvalid)) {
        return windowOverride || !whenClosed ? undefined : { reason: `the maintenance window cannot be evaluated: ${error.message}` };
      }
      throw error;
    }
    if (!whenClosed || windowOverride || verdict.open) return undefined;
    return { reason: verdict.reason, ...(verdict.until ? { until: verdict.until } : {}) };
  }

  private async read(): Promise<AtVersion<MaintenanceCalendar>> {
    try {
      return await this.store.readVersioned();
    } catch (error) {
      throw unreadable(error);
    }
  }

  /** A store write: a stale If-Match is a 412; an invalid stored calendar a 500. */
  private async write<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await preconditioned('maintenance calendar', write);
    } catch (error) {
      throw unreadable(error);
    }
  }
}

/** Validates a window or freeze as the store will (its cron expression too): a 400 naming each field. */
function validated<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!isFailure(error, MaintenanceFailureType.calendarInvalid)) throw error;
    const details = error.details?.[0] as { problems?: CalendarProblem[] } | undefined;
    const problems = details?.problems?.length ? details.problems : [{ path: '', message: error.message }];
    throw new RequestValidationError(
      'request body',
      problems.map((p) => ({
        path: p.path
          .split('.')
          .filter(Boolean)
          .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s)),
        message: p.message,
      })),
    );
  }
}

function verdictOf(calendar: MaintenanceCalendar, window: string | undefined, at: Date): WindowVerdict {
  try {
    return evaluateWindow(calendar, window, at);
  } catch (error) {
    return { open: false, reason: `cannot be evaluated: ${(error as Error).message}` };
  }
}

function assertSameName(name: string, inBody: string | undefined): void {
  if (inBody !== undefined && inBody !== name) {
    throw new RequestValidationError('request body', [{ path: ['name'], message: `must be the name in the path (${name}) or left out` }]);
  }
}

function isFailure(error: unknown, type: string): error is ApplicationFailure {
  return error instanceof ApplicationFailure && error.type === type;
}

function unreadable(error: unknown): unknown {
  if (!isFailure(error, MaintenanceFailureType.calendarInvalid)) return error;
  return new InternalServerErrorException(`the stored maintenance calendar is invalid: ${error.message}`, {
    cause: error,
  });
}
