import { z } from 'zod';
import {
  dnsNameSchema,
  incidentNameSchema,
  ipv4Schema,
  networkDeviceSchema,
  resolverSchema,
  vantageSchema,
  type DiagnosisPlan,
  type ProbedService,
} from './diagnosis';
import { freeText, singleLine } from './text';

/**
 * Incident response (shared/docs/runbooks.md): what the runbook knows of the estate is the
 * incident catalogue (services with their standby and switch actions, locations with their users
 * and vantage point, resolvers, network devices, log sources, severity policy), kept in the store
 * and replaced through PUT /v1/incidents/catalog; a run names services and locations from it.
 */

const hostNameSchema = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'must be a host name of the inventory: letters, digits, dots and dashes');
const commandSchema = singleLine(2000).min(1);

/** A change on one inventory host (run by its host driver) and the command that takes it back. */
export const hostActionSchema = z.strictObject({
  host: hostNameSchema,
  apply: commandSchema,
  undo: commandSchema,
});
export type HostAction = z.infer<typeof hostActionSchema>;

export const incidentServiceSchema = z.strictObject({
  name: incidentNameSchema,
  dnsName: dnsNameSchema.optional(),
  port: z.number().int().min(1).max(65535),
  /** Checked over HTTP at the active address when given. */
  url: z
    .string()
    .max(2000)
    .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[!-~]*)?$/, 'must be an http or https URL (printable ASCII)')
    .optional(),
  primary: z.strictObject({ address: ipv4Schema }),
  /** Its own port when it differs from the primary's. */
  standby: z.strictObject({ address: ipv4Schema, port: z.number().int().min(1).max(65535).optional() }).optional(),
  /** How the service is switched to its standby (apply) and back (undo): e.g. a DNS record rewritten, a config symlink moved. */
  failover: hostActionSchema.optional(),
});
export type IncidentService = z.infer<typeof incidentServiceSchema>;

/** A named rollback the responder may choose: restore a host's config from its last good copy, and how to undo that. */
export const rollbackSchema = hostActionSchema.extend({
  name: incidentNameSchema,
  description: singleLine(300).min(1),
});
export type Rollback = z.infer<typeof rollbackSchema>;

/** How a host suspected in a security incident is isolated (e.g. an nftables drop on it), and how that is lifted. */
export const isolationSchema = hostActionSchema.extend({
  name: incidentNameSchema,
  description: singleLine(300).min(1),
});
export type Isolation = z.infer<typeof isolationSchema>;

export const locationSchema = z.strictObject({
  name: incidentNameSchema,
  users: z.array(singleLine(100).min(1)).max(10_000).default([]),
  /** Where this location's view of the network is probed from. */
  vantage: vantageSchema.omit({ name: true }).default({}),
});
export type Location = z.infer<typeof locationSchema>;

/** A log to read around the incident's start: the command runs on the host with INCIDENT_SINCE (ISO 8601) in its environment. */
export const logSourceSchema = z.strictObject({
  host: hostNameSchema,
  name: incidentNameSchema,
  command: commandSchema,
  /** Services and devices this log speaks for: read when one of them is implicated. */
  about: z.array(incidentNameSchema).min(1).max(50),
});
export type LogSource = z.infer<typeof logSourceSchema>;

export const severitySchema = z.enum(['P1', 'P2', 'P3', 'P4']);
export type Severity = z.infer<typeof severitySchema>;

const severityPolicySchema = z.strictObject({
  /** Distinct approvers the remediation needs (2nd and 3rd line may approve). */
  approvers: z.number().int().min(1).max(5),
  /** Each support tier's time to choose the remediation before it passes to the next tier. */
  responseSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
  /** How long each approval wait lasts before it escalates. */
  approvalSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
});
export type SeverityPolicy = z.infer<typeof severityPolicySchema>;

/** P1 needs one 2nd-line approver so an outage is not held up; the lower the priority, the more eyes on a change. */
export const DEFAULT_SEVERITY_POLICY: Record<Severity, SeverityPolicy> = {
  P1: { approvers: 1, responseSeconds: 15 * 60, approvalSeconds: 15 * 60 },
  P2: { approvers: 1, responseSeconds: 60 * 60, approvalSeconds: 60 * 60 },
  P3: { approvers: 2, responseSeconds: 4 * 3600, approvalSeconds: 4 * 3600 },
  P4: { approvers: 2, responseSeconds: 24 * 3600, approvalSeconds: 24 * 3600 },
};

export const incidentCatalogSchema = z
  .strictObject({
    services: z.array(incidentServiceSchema).max(1000).default([]),
    locations: z.array(locationSchema).max(1000).default([]),
    resolvers: z.array(resolverSchema).max(20).default([]),
    devices: z.array(networkDeviceSchema).max(1000).default([]),
    rollbacks: z.array(rollbackSchema).max(1000).default([]),
    isolations: z.array(isolationSchema).max(1000).default([]),
    logSources: z.array(logSourceSchema).max(1000).default([]),
    severities: z
      .strictObject({ P1: severityPolicySchema, P2: severityPolicySchema, P3: severityPolicySchema, P4: severityPolicySchema })
      .default(DEFAULT_SEVERITY_POLICY),
    probeTimeoutSeconds: z.number().int().min(1).max(120).default(10),
    parallelism: z.number().int().min(1).max(32).default(4),
    /** Who hears of every incident (chat channel names or e-mail addresses). */
    stakeholders: z.array(singleLine(320).min(1)).max(100).default([]),
    /**
     * Mail domains an incident's `notify` may write to, besides the stakeholders' own domains
     * (which always may): a launch cannot send an incident's details to an outside address.
     */
    notifyDomains: z
      .array(
        z
          .string()
          .max(253)
          .regex(
            /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/,
            'must be a domain name such as corp.example',
          ),
      )
      .max(100)
      .default([]),
  })
  .superRefine((catalog, ctx) => {
    for (const key of ['services', 'locations', 'rollbacks', 'isolations'] as const) {
      const seen = new Set<string>();
      catalog[key].forEach((entry, i) => {
        if (seen.has(entry.name)) ctx.addIssue({ code: 'custom', message: `duplicate name ${entry.name}`, path: [key, i, 'name'] });
        seen.add(entry.name);
      });
    }
    catalog.services.forEach((s, i) => {
      if (s.failover && !s.standby)
        ctx.addIssue({ code: 'custom', message: 'a failover needs the standby it switches to', path: ['services', i, 'standby'] });
    });
  });
export type IncidentCatalog = z.infer<typeof incidentCatalogSchema>;
export type IncidentCatalogInput = z.input<typeof incidentCatalogSchema>;

export const incidentInputSchema = z.strictObject({
  title: singleLine(200).min(1),
  severity: severitySchema,
  symptoms: freeText(4000).min(1),
  affected: z.strictObject({
    users: z.array(singleLine(100).min(1)).max(1000).default([]),
    services: z.array(incidentNameSchema).min(1).max(100),
    locations: z.array(incidentNameSchema).min(1).max(100),
  }),
  /** A recent run suspected of causing it (its run id), named in the review. */
  suspectedRunId: singleLine(200).min(1).optional(),
  /** When it started (default: when the run started); logs are read from shortly before. */
  startedAt: z.iso.datetime({ offset: true }).max(40).optional(),
  /** Who hears of it besides the catalogue's stakeholders. */
  notify: z.array(singleLine(320).min(1)).max(100).default([]),
  /** A security incident: detect, contain, fix, learn. Containment isolates these catalogue entries (isolations), after approval. */
  security: z.strictObject({ isolate: z.array(incidentNameSchema).min(1).max(50) }).optional(),
});
export type IncidentInput = z.infer<typeof incidentInputSchema>;

/** The names an incident takes from the catalogue that it lacks, with the input field of each (for a 400). */
export function unknownIncidentNames(catalog: IncidentCatalog, input: IncidentInput): { path: (string | number)[]; message: string }[] {
  const services = new Set(catalog.services.map((s) => s.name));
  const locations = new Set(catalog.locations.map((l) => l.name));
  return [
    ...input.affected.services.flatMap((name, i) =>
      services.has(name)
        ? []
        : [
            {
              path: ['affected', 'services', i],
              message: `${name} is not a service of the incident catalogue (GET /v1/incidents/catalog)`,
            },
          ],
    ),
    ...input.affected.locations.flatMap((name, i) =>
      locations.has(name)
        ? []
        : [
            {
              path: ['affected', 'locations', i],
              message: `${name} is not a location of the incident catalogue (GET /v1/incidents/catalog)`,
            },
          ],
    ),
    ...refusedRecipients(catalog, input.notify),
    ...(input.security?.isolate ?? []).flatMap((name, i) =>
      catalog.isolations.some((x) => x.name === name)
        ? []
        : [
            {
              path: ['security', 'isolate', i],
              message: `${name} is not an isolation of the incident catalogue (GET /v1/incidents/catalog)`,
            },
          ],
    ),
  ];
}

/**
 * The `notify` addresses whose domain the catalogue does not allow (notifyDomains, or a
 * stakeholder's own domain), with the input field of each. Chat names (no '@') go to the
 * configured channel only and are not refused.
 */
export function refusedRecipients(
  catalog: Pick<IncidentCatalog, 'notifyDomains' | 'stakeholders'>,
  notify: readonly string[],
): { path: (string | number)[]; message: string }[] {
  const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const allowed = new Set([
    ...(catalog.notifyDomains ?? []).map((d) => d.toLowerCase()),
    ...catalog.stakeholders.filter((s) => s.includes('@')).map(domainOf),
  ]);
  return notify.flatMap((recipient, i) =>
    !recipient.includes('@') || allowed.has(domainOf(recipient))
      ? []
      : [
          {
            path: ['notify', i],
            message:
              `${recipient}: incident mail goes only to the domains the incident catalogue allows ` +
              `(${[...allowed].sort().join(', ') || 'none: set notifyDomains'}; GET /v1/incidents/catalog)`,
          },
        ],
  );
}

/** What the scope step resolves: the catalogue entries the incident touches, and who is affected. */
export interface IncidentScope {
  services: IncidentService[];
  locations: Location[];
  resolvers: IncidentCatalog['resolvers'];
  devices: IncidentCatalog['devices'];
  rollbacks: Rollback[];
  isolations: Isolation[];
  logSources: LogSource[];
  policy: SeverityPolicy;
  probeTimeoutSeconds: number;
  parallelism: number;
  stakeholders: string[];
  affectedUsers: string[];
}

/** The plan of one diagnosis: each location's vantage, each service at its active address (primary, or standby after a failover). */
export function diagnosisPlanOf(scope: IncidentScope, onStandby: readonly string[] = []): DiagnosisPlan {
  const services: ProbedService[] = scope.services.map((s) => ({
    name: s.name,
    address: onStandby.includes(s.name) && s.standby ? s.standby.address : s.primary.address,
    port: (onStandby.includes(s.name) && s.standby?.port) || s.port,
    dnsName: s.dnsName,
    knownAddresses: [s.primary.address, ...(s.standby ? [s.standby.address] : [])],
    url: s.url,
  }));
  return {
    vantages: scope.locations.map((l) => ({ name: l.name, ...l.vantage })),
    services,
    resolvers: scope.resolvers,
    devices: scope.devices,
    probeTimeoutSeconds: scope.probeTimeoutSeconds,
    parallelism: scope.parallelism,
  };
}

/** One entry of the incident's timeline: what happened, when, and who (a person, or the runbook). */
export interface TimelineEntry {
  at: string;
  kind:
    | 'declared'
    | 'containment'
    | 'finding'
    | 'conclusion'
    | 'log'
    | 'decision'
    | 'approval'
    | 'action'
    | 'notice'
    | 'escalation'
    | 'verification';
  by: string;
  text: string;
}

/** What the incident run keeps beside its steps: the timeline, the findings, the choice and the review draft (the report renders it). */
export type IncidentRecord = {
  title: string;
  severity: Severity;
  symptoms: string;
  affected: { users: string[]; services: string[]; locations: string[] };
  suspectedRunId?: string;
  timeline: TimelineEntry[];
  findings: string[];
  conclusions?: { isp: string; dns: string };
  logs: { source: string; host: string; lines: string[]; error?: string }[];
  remediation?: { choice: string; reason: string; chosenBy: string; action: string };
  /** Security incidents: what was isolated, when. */
  contained?: { name: string; at: string }[];
  security: boolean;
  /** Findings that still stood at verification (none: resolved). */
  remaining?: string[];
  resolvedAt?: string;
  /** Each probe's command and output, of the first diagnosis and of the verification. */
  raw: { diagnosis: string; vantage: string; command: string; output: string }[];
};

/** The incident's part of the report: the review draft a team keeps, the timeline, the evidence. */
export function renderIncidentMarkdown(incident: IncidentRecord): string[] {
  const lines: string[] = [];
  const fix = incident.remediation;
  lines.push('## Post-incident review (draft)', '');
  lines.push(`- **Incident:** ${incident.title} (${incident.severity})`);
  lines.push(
    `- **Impact:** services ${incident.affected.services.join(', ')} at ${incident.affected.locations.join(', ')}` +
      `${incident.affected.users.length ? `; users affected: ${incident.affected.users.join(', ')}` : ''}`,
  );
  lines.push(`- **Detection:** ${incident.symptoms.replace(/\n/g, ' ')} (declared ${incident.timeline[0]?.at ?? ''})`);
  lines.push(
    `- **Cause (from the findings):** ${incident.findings.length ? incident.findings.join('; ') : 'no finding: the probes saw no fault'}`,
  );
  if (incident.conclusions) lines.push(`- **ISP:** ${incident.conclusions.isp}`, `- **DNS:** ${incident.conclusions.dns}`);
  if (incident.suspectedRunId) lines.push(`- **Suspected change:** run ${incident.suspectedRunId}`);
  lines.push(
    `- **Fix:** ${fix ? `${fix.choice} (${fix.action}), chosen by ${fix.chosenBy}: ${fix.reason.replace(/\n/g, ' ')}` : 'none applied'}`,
  );
  lines.push(
    `- **Resolution:** ${incident.resolvedAt ? `verified resolved at ${incident.resolvedAt}` : incident.remaining?.length ? `not resolved: ${incident.remaining.join('; ')}` : 'not verified'}`,
  );
  if (incident.security) {
    lines.push(`- **Detect:** ${incident.findings.length} finding(s) and ${incident.logs.length} log(s) read`);
    lines.push(
      `- **Contain:** ${incident.contained?.length ? incident.contained.map((c) => `${c.name} isolated at ${c.at}`).join('; ') : 'nothing isolated'}`,
    );
    lines.push(`- **Fix:** ${fix ? fix.choice : 'none'}`);
    lines.push('- **Learn:** the follow-ups below');
  }
  lines.push('- **Follow-ups:**');
  for (const f of followUps(incident)) lines.push(`  - [ ] ${f}`);
  lines.push('');
  lines.push('## Timeline', '', '| Time | Kind | By | What |', '|------|------|----|------|');
  for (const e of incident.timeline) lines.push(`| ${e.at} | ${e.kind} | ${e.by} | ${e.text.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  lines.push('');
  if (incident.logs.length) {
    lines.push('## Logs around the start', '');
    for (const log of incident.logs) {
      lines.push(`### ${log.source} on ${log.host}${log.error ? ` (${log.error})` : ''}`, '', '```', ...log.lines, '```', '');
    }
  }
  if (incident.raw.length) {
    lines.push('## Probe output', '');
    for (const r of incident.raw)
      lines.push(`### ${r.diagnosis}, from ${r.vantage}: \`${r.command}\``, '', '```', r.output.trimEnd(), '```', '');
  }
  return lines;
}

function followUps(incident: IncidentRecord): string[] {
  const out: string[] = [];
  if (incident.remediation?.choice.startsWith('failover:'))
    out.push(`Repair the primary of ${incident.remediation.choice.slice('failover:'.length)} and switch back (the failover's undo)`);
  if (incident.remediation?.choice.startsWith('rollback:'))
    out.push('Find out how the bad configuration got onto the host and guard against it');
  if (incident.findings.some((f) => f.startsWith('DNS'))) out.push("Monitor every resolver's answer for the service names, not only one");
  if (incident.conclusions?.isp.includes('carries nothing')) out.push('Raise the outage with the provider and record their ticket');
  if (incident.suspectedRunId) out.push(`Review run ${incident.suspectedRunId} and its approvals`);
  out.push('Review whether monitoring caught this before the users did');
  return out;
}
