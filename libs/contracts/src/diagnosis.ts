import { z } from 'zod';

/**
 * Network diagnosis of an incident: probes (ping, traceroute, the gateway's neighbour entry, TCP
 * ports, DNS per resolver, HTTP) run read-only from one or more vantage points, and the findings
 * drawn from their results: one line each, naming the first failing layer and where.
 */

export const incidentNameSchema = z
  .string()
  .max(63)
  .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'must be a name: lowercase letters, digits, dots and dashes');
export const ipv4Schema = z.ipv4();
export const dnsNameSchema = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'must be a DNS name');

/**
 * Where probes run from: the worker itself, or a Linux network namespace on the worker (`ip netns
 * exec`), e.g. a test topology's office client. `gateway` is the vantage's first router.
 */
export const vantageSchema = z.strictObject({
  name: incidentNameSchema,
  namespace: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a network namespace name')
    .optional(),
  gateway: z.strictObject({ name: incidentNameSchema, address: ipv4Schema }).optional(),
});
export type Vantage = z.infer<typeof vantageSchema>;

/** A network device on a path: routers, switches, firewalls (role), named so a broken hop can be named. */
export const networkDeviceSchema = z.strictObject({
  name: incidentNameSchema,
  role: z.enum(['router', 'switch', 'firewall', 'load-balancer']),
  addresses: z.array(ipv4Schema).min(1).max(16),
  /** The device hands traffic to the provider's line: a path that breaks right after it points at the ISP. */
  uplink: z.boolean().default(false),
});
export type NetworkDevice = z.infer<typeof networkDeviceSchema>;

export const resolverSchema = z.strictObject({ name: incidentNameSchema, address: ipv4Schema });
export type Resolver = z.infer<typeof resolverSchema>;

/** One service as the probes see it now: the address it should be reached at (the active side of a failover pair). */
export interface ProbedService {
  name: string;
  address: string;
  port: number;
  dnsName?: string;
  /** Every address DNS may rightly answer for dnsName (primary and standby). */
  knownAddresses: string[];
  /** Checked over HTTP at `address` when given (path and scheme of the URL; the host part names the service). */
  url?: string;
}

export interface DiagnosisPlan {
  vantages: Vantage[];
  services: ProbedService[];
  resolvers: Resolver[];
  devices: NetworkDevice[];
  /** How long one probe may run before it is reported as hanging. */
  probeTimeoutSeconds: number;
  /** How many probes run at once on the worker. */
  parallelism: number;
}

export type ProbeSpec =
  | { kind: 'ping'; service: string; address: string }
  | { kind: 'traceroute'; service: string; address: string }
  | { kind: 'neighbour'; gateway: string; address: string }
  | { kind: 'tcp'; service: string; address: string; port: number }
  | { kind: 'dns'; service: string; resolver: string; resolverAddress: string; name: string }
  | { kind: 'http'; service: string; url: string; address: string; port: number };
export type ProbeKind = ProbeSpec['kind'];

/** What one probe saw, parsed; `raw` is the tool's output for the report. */
export interface ProbeResult {
  vantage: string;
  probe: ProbeSpec;
  /** `hung`: the probe did not finish within its timeout and was stopped. */
  status: 'ok' | 'failed' | 'hung';
  /** One line: what the tool said, e.g. "3 sent, 0 received (100% loss)". */
  summary: string;
  /** ping: loss percent; traceroute: hops answering, reached; neighbour: state; tcp: open/refused/filtered; dns: rcode, answers; http: status code. */
  observed: {
    lossPercent?: number;
    hops?: (string | null)[];
    reached?: boolean;
    neighbourState?: string;
    tcp?: 'open' | 'refused' | 'filtered' | 'unreachable';
    rcode?: string;
    answers?: string[];
    httpStatus?: number;
  };
  raw: string;
  command: string;
}

export type FindingLayer = 'link' | 'network' | 'dns' | 'transport' | 'application';

export interface Finding {
  layer: FindingLayer;
  /** The place: a device, resolver or service name and its address. */
  where: string;
  /** The finding as a person reads it, one line. */
  text: string;
  vantage: string;
  service?: string;
}

export interface Diagnosis {
  at: string;
  findings: Finding[];
  /** Separate, named conclusions on the provider's line and on DNS. */
  conclusions: { isp: string; dns: string };
  results: ProbeResult[];
}

/** Every probe the plan asks for, per vantage: the gateway's neighbour entry, then per service the path, port, DNS and HTTP. */
export function probesOf(plan: DiagnosisPlan): { vantage: Vantage; probe: ProbeSpec }[] {
  const out: { vantage: Vantage; probe: ProbeSpec }[] = [];
  for (const vantage of plan.vantages) {
    if (vantage.gateway)
      out.push({ vantage, probe: { kind: 'neighbour', gateway: vantage.gateway.name, address: vantage.gateway.address } });
    for (const s of plan.services) {
      out.push({ vantage, probe: { kind: 'ping', service: s.name, address: s.address } });
      out.push({ vantage, probe: { kind: 'traceroute', service: s.name, address: s.address } });
      out.push({ vantage, probe: { kind: 'tcp', service: s.name, address: s.address, port: s.port } });
      if (s.dnsName) {
        for (const r of plan.resolvers)
          out.push({ vantage, probe: { kind: 'dns', service: s.name, resolver: r.name, resolverAddress: r.address, name: s.dnsName } });
      }
      if (s.url) out.push({ vantage, probe: { kind: 'http', service: s.name, url: s.url, address: s.address, port: s.port } });
    }
  }
  return out;
}

function deviceAt(plan: DiagnosisPlan, address: string): NetworkDevice | undefined {
  return plan.devices.find((d) => d.addresses.includes(address));
}

function named(plan: DiagnosisPlan, address: string): string {
  const device = deviceAt(plan, address);
  return device ? `${device.name} (${address})` : address;
}

/**
 * The findings of one diagnosis. Per vantage and service only the first failing layer of the
 * path to it is reported (link, network, transport, application: a stopped service is a refused
 * port, not also a failed HTTP check); DNS is judged per resolver, the answers compared.
 */
export function findingsOf(plan: DiagnosisPlan, results: readonly ProbeResult[]): Pick<Diagnosis, 'findings' | 'conclusions'> {
  const findings: Finding[] = [];
  const of = <K extends ProbeKind>(vantage: string, kind: K, match: (p: Extract<ProbeSpec, { kind: K }>) => boolean) =>
    results.find((r) => r.vantage === vantage && r.probe.kind === kind && match(r.probe as Extract<ProbeSpec, { kind: K }>));
  let ispDown: string | undefined;

  for (const vantage of plan.vantages) {
    const v = vantage.name;
    const neighbour = vantage.gateway ? of(v, 'neighbour', () => true) : undefined;
    const linkBroken = neighbour && neighbour.status !== 'ok';
    if (linkBroken && vantage.gateway) {
      findings.push({
        layer: 'link',
        where: `${vantage.gateway.name} (${vantage.gateway.address})`,
        text: `link: ${v} cannot reach its gateway ${vantage.gateway.name} (${vantage.gateway.address}): ${neighbour.summary}`,
        vantage: v,
      });
    }

    for (const s of plan.services) {
      const at = `${s.name} (${s.address})`;
      const ping = of(v, 'ping', (p) => p.service === s.name);
      const trace = of(v, 'traceroute', (p) => p.service === s.name);
      const tcp = of(v, 'tcp', (p) => p.service === s.name);
      const http = of(v, 'http', (p) => p.service === s.name);
      const push = (layer: FindingLayer, where: string, text: string) => findings.push({ layer, where, text, vantage: v, service: s.name });

      const lastHop = trace?.observed.hops ? lastAnswering(trace.observed.hops) : undefined;
      const traceBroken = trace && trace.observed.reached === false;
      const pingLost = ping && (ping.status !== 'ok' || (ping.observed.lossPercent ?? 0) > 0);
      const tcpAnswered = tcp?.observed.tcp === 'open' || tcp?.observed.tcp === 'refused';

      // A trace that stops while ping and the port answer is traceroute's own probes filtered, not an outage.
      if (!linkBroken && (pingLost || (traceBroken && !tcpAnswered))) {
        const after = lastHop ? `after hop ${lastHop.hop}, ${named(plan, lastHop.address)}` : 'at the first hop';
        if (tcpAnswered) {
          const beyond = traceBroken && lastHop ? (deviceAt(plan, lastHop.address)?.name ?? lastHop.address) : undefined;
          push(
            'network',
            traceBroken && lastHop ? named(plan, lastHop.address) : at,
            `network: ICMP to ${at} is lost (${ping?.summary ?? 'no ping'})${traceBroken ? ` and the path stops answering ${after}` : ''}, ` +
              `yet TCP ${s.port} answers: ICMP is filtered${beyond ? ` beyond ${beyond}` : ' on the way'}`,
          );
        } else if (traceBroken) {
          push('network', lastHop ? named(plan, lastHop.address) : v, `network: the path from ${v} to ${at} breaks ${after}`);
          const device = lastHop && deviceAt(plan, lastHop.address);
          if (device?.uplink && lastHop)
            ispDown ??= `ISP: the line beyond ${device.name} (${lastHop.address}) carries nothing: the path from ${v} ends at the uplink router`;
        } else if (ping) {
          push('network', at, `network: ${ping.summary} to ${at} from ${v}`);
        }
        continue;
      }
      if (linkBroken) continue;
      if (tcp && tcp.observed.tcp !== 'open') {
        const how =
          tcp.observed.tcp === 'refused'
            ? 'refuses the connection: nothing listens'
            : tcp.status === 'hung'
              ? 'did not answer before the probe was stopped (hung)'
              : 'gets no answer: a filter drops it';
        push('transport', at, `transport: TCP port ${s.port} on ${at} ${how}, though ${s.address} answers ping`);
        continue;
      }
      if (http && http.status !== 'ok') push('application', at, `application: ${s.url} at ${at}: ${http.summary}`);
    }
  }

  // DNS: per service name and vantage, every resolver's answer, compared.
  const dnsLines: string[] = [];
  for (const vantage of plan.vantages) {
    for (const s of plan.services.filter((x) => x.dnsName)) {
      const answers = results.filter((r) => r.vantage === vantage.name && r.probe.kind === 'dns' && r.probe.service === s.name);
      const pathBroken = findings.some(
        (f) => f.vantage === vantage.name && (f.layer === 'link' || f.layer === 'network') && f.text.includes('breaks'),
      );
      if (pathBroken && answers.length > 0 && answers.every((r) => r.observed.rcode === undefined)) {
        // Not a DNS fault: the resolvers sit behind the same broken path (the first failing layer is the network's).
        dnsLines.push(`not judged from ${vantage.name}: no resolver can be reached (the path is broken)`);
        continue;
      }
      const good = answers.filter((r) => r.status === 'ok' && (r.observed.answers ?? []).every((a) => s.knownAddresses.includes(a)));
      for (const r of answers) {
        if (good.includes(r) || r.probe.kind !== 'dns') continue;
        const others = good.map((g) => (g.probe.kind === 'dns' ? g.probe.resolver : '')).join(', ');
        const fine = others ? `; ${others} ${good.length > 1 ? 'are' : 'is'} fine` : '; no resolver answers rightly';
        const what =
          r.status === 'hung' || r.observed.rcode === undefined
            ? `does not answer${/timed out/.test(r.raw) || r.status === 'hung' ? ' (timed out)' : ` (${r.summary})`}`
            : r.observed.rcode !== 'NOERROR'
              ? `answers ${r.observed.rcode}`
              : (r.observed.answers ?? []).length === 0
                ? 'answers with no address'
                : `answers ${r.observed.answers?.join(', ')}, not ${s.knownAddresses.join(' or ')}`;
        const text = `DNS: resolver ${r.probe.resolver} (${r.probe.resolverAddress}) ${what} for ${s.dnsName}${fine}`;
        findings.push({
          layer: 'dns',
          where: `${r.probe.resolver} (${r.probe.resolverAddress})`,
          text,
          vantage: vantage.name,
          service: s.name,
        });
        dnsLines.push(text.replace(/^DNS: /, ''));
      }
      const distinct = new Set(good.map((g) => (g.observed.answers ?? []).join(',')));
      if (distinct.size > 1) {
        const text = `DNS: the resolvers disagree on ${s.dnsName}: ${good.map((g) => (g.probe.kind === 'dns' ? `${g.probe.resolver} ${g.observed.answers?.join(',')}` : '')).join('; ')}`;
        findings.push({ layer: 'dns', where: s.dnsName ?? s.name, text, vantage: vantage.name, service: s.name });
        dnsLines.push(text.replace(/^DNS: /, ''));
      }
    }
  }
  const resolversAsked = plan.resolvers.map((r) => r.name).join(', ');
  return {
    findings,
    conclusions: {
      isp:
        ispDown ??
        (plan.devices.some((d) => d.uplink)
          ? "ISP: the provider's line carries traffic (paths cross the uplink)"
          : 'ISP: no uplink device in the inventory; not judged'),
      dns: dnsLines.length
        ? `DNS: ${dnsLines.join('; ')}`
        : `DNS: every resolver (${resolversAsked || 'none configured'}) answers every service name rightly`,
    },
  };
}

function lastAnswering(hops: readonly (string | null)[]): { hop: number; address: string } | undefined {
  for (let i = hops.length - 1; i >= 0; i--) {
    const address = hops[i];
    if (address) return { hop: i + 1, address };
  }
  return undefined;
}
