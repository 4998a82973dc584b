import { redactOutput } from '../text/redact-output';
import { refusedRecipients, type Host, type IncidentCatalog, type IncidentScope, type LogSource, type Severity } from '@runbooks/contracts';
import type { Store } from '@runbooks/store';
import { withHeartbeat } from '../activity-context';
import type { CommandResult, CommandSession, CommandTransport } from '../hosts/command-driver';
import { summary } from '../hosts/command-driver';
import { HostFailureType, nonRetryable, retryable } from '../hosts/failures';
import type { InventoryStore } from '../hosts/inventory-store';
import { OperationLedger } from '../hosts/ledger';
import { LocalTransport } from '../hosts/local';
import { shellQuote } from '../hosts/os-commands';
import type { Mailer } from '../mail/smtp';
import { IncidentCatalogStore } from './catalog-store';

/** Lines of each log the report keeps (the newest). */
const LOG_LINES = 50;
const ACTION_TIMEOUT_MS = 60_000;
const LOG_TIMEOUT_MS = 30_000;

export interface ResolveIncidentScopeInput {
  services: string[];
  locations: string[];
  users: string[];
  severity: Severity;
  /** The launch's extra recipients: checked again against the catalogue as it is now. */
  notify?: string[];
}

export interface IncidentLog {
  source: string;
  host: string;
  lines: string[];
  /** Why the log could not be read (the diagnosis goes on without it). */
  error?: string;
}

export interface RunIncidentActionInput {
  host: string;
  command: string;
  /** Says what the action is for, in the ledger and in messages. */
  what: string;
  idempotencyKey: string;
  /** Takes back what the run did: runs whatever the catalogue says now (the change itself was checked). */
  undo?: boolean;
}

export interface IncidentActivities {
  /** The catalogue entries the incident touches: services, locations, resolvers, devices, rollbacks, logs, the severity's policy. */
  resolveIncidentScope(input: ResolveIncidentScopeInput): Promise<IncidentScope>;
  /** Recent lines of each log source, read on its host with INCIDENT_SINCE set; read-only. */
  readIncidentLogs(input: { sources: LogSource[]; since: string }): Promise<IncidentLog[]>;
  /** Runs a failover, rollback or isolation command on an inventory host, once per idempotency key. */
  runIncidentAction(input: RunIncidentActionInput): Promise<{ output: string }>;
  /** Sends a stakeholder notice by e-mail over SMTP (the worker's relay, RUNBOOKS_SMTP_*). */
  mailIncidentNotice(input: { to: string[]; subject: string; text: string }): Promise<{ messageId: string }>;
}

export interface IncidentActivitiesDeps {
  store: Store;
  inventory: InventoryStore;
  /** How commands reach an ssh host (the ssh driver's transport); local hosts run on the worker. */
  ssh?: CommandTransport;
  mailer: Mailer;
}

export function createIncidentActivities({ store, inventory, ssh, mailer }: IncidentActivitiesDeps): IncidentActivities {
  const catalogs = new IncidentCatalogStore(store);
  const ledger = new OperationLedger(store, 'incident');
  const transportFor = (host: Host): CommandTransport => {
    if (host.driver === 'local') return new LocalTransport();
    if (host.driver === 'ssh' && ssh) return ssh;
    throw nonRetryable(`host ${host.name}: incident actions run on local or ssh hosts, not ${host.driver}`, HostFailureType.misconfigured, {
      host: host.name,
    });
  };
  const onHost = async (name: string, script: string, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult> => {
    const host = await inventory.get(name);
    const session: CommandSession = await transportFor(host).open(host, signal);
    try {
      return await session.run(script, timeoutMs, signal);
    } finally {
      session.close();
    }
  };

  return {
    mailIncidentNotice: ({ to, subject, text }) => mailer.sendMail({ to, subject, text }),

    async resolveIncidentScope({ services, locations, users, severity, notify = [] }) {
      const { catalog } = await catalogs.read();
      const [refused] = refusedRecipients(catalog, notify);
      if (refused) throw nonRetryable(`input.notify: ${refused.message}`, HostFailureType.invalidInput);
      const pick = <T extends { name: string }>(all: T[], names: string[], what: string): T[] =>
        names.map((name) => {
          const found = all.find((x) => x.name === name);
          if (!found) throw nonRetryable(`${name} is not a ${what} of the incident catalogue`, HostFailureType.invalidInput);
          return found;
        });
      const picked = pick(catalog.services, services, 'service');
      const places = pick(catalog.locations, locations, 'location');
      const implicated = new Set([...services, ...catalog.devices.map((d) => d.name)]);
      return {
        services: picked,
        locations: places,
        resolvers: catalog.resolvers,
        devices: catalog.devices,
        rollbacks: catalog.rollbacks,
        isolations: catalog.isolations,
        logSources: catalog.logSources.filter((l) => l.about.some((a) => implicated.has(a))),
        policy: catalog.severities[severity],
        probeTimeoutSeconds: catalog.probeTimeoutSeconds,
        parallelism: catalog.parallelism,
        stakeholders: catalog.stakeholders,
        affectedUsers: [...new Set([...users, ...places.flatMap((l) => l.users)])],
      };
    },

    readIncidentLogs({ sources, since }) {
      return withHeartbeat(
        () => ({ sources: sources.length }),
        (signal) =>
          Promise.all(
            sources.map(async (source): Promise<IncidentLog> => {
              try {
                const result = await onHost(
                  source.host,
                  `export INCIDENT_SINCE=${shellQuote(since)}; ${source.command}`,
                  LOG_TIMEOUT_MS,
                  signal,
                );
                const lines = redactOutput(result.stdout)
                  .split('\n')
                  .filter((line) => line.trim() !== '');
                if (result.timedOut || result.code !== 0) {
                  return {
                    source: source.name,
                    host: source.host,
                    lines: lines.slice(-LOG_LINES),
                    error: `exit ${result.code ?? 'on timeout'}: ${summary(result.stderr)}`,
                  };
                }
                return { source: source.name, host: source.host, lines: lines.slice(-LOG_LINES) };
              } catch (error) {
                return { source: source.name, host: source.host, lines: [], error: error instanceof Error ? error.message : String(error) };
              }
            }),
          ),
      );
    },

    runIncidentAction({ host, command, what, idempotencyKey, undo }) {
      return withHeartbeat(
        () => ({ host, what }),
        (signal) =>
          ledger.once(host, 'incident-action', idempotencyKey, async () => {
            // The run read the catalogue at its start; an admin may have withdrawn the action since its approval.
            if (!undo && !listsAction((await catalogs.read()).catalog, host, command)) {
              throw nonRetryable(
                `host ${host}: ${what} is no longer an action of the incident catalogue; not run`,
                HostFailureType.invalidInput,
                { host },
              );
            }
            const result = await onHost(host, command, ACTION_TIMEOUT_MS, signal);
            if (result.timedOut || result.code !== 0) {
              throw retryable(
                `host ${host}: ${what} ${result.timedOut ? 'did not finish in time' : `failed (exit ${result.code})`}: ${summary(result.stderr) || summary(result.stdout) || 'no output'}`,
                HostFailureType.commandFailed,
                { host },
              );
            }
            return { output: redactOutput(summary(result.stdout)) };
          }),
      );
    },
  };
}

/** Whether the catalogue lists `command` on `host` as a failover, rollback or isolation. */
function listsAction(catalog: IncidentCatalog, host: string, command: string): boolean {
  const actions = [...catalog.services.flatMap((s) => (s.failover ? [s.failover] : [])), ...catalog.rollbacks, ...catalog.isolations];
  return actions.some((a) => a.host === host && a.apply === command);
}
