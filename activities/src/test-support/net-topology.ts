import type { DiagnosisPlan, IncidentCatalogInput } from '@runbooks/contracts';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { shellQuote } from '../hosts/os-commands';
import os from 'node:os';
import path from 'node:path';

/**
 * A small real network built from Linux network namespaces and veth pairs, for the incident
 * runbook's tests: an office client behind a branch router, a core router, and a data-centre LAN
 * (a bridge on the core router) with two dnsmasq resolvers, the ERP's HTTP service and its
 * standby. Every address is from the documentation ranges of RFC 5737 and exists only inside the
 * namespaces this creates; nothing routes off the machine. Names carry a random prefix so parallel
 * runs do not collide.
 *
 *   office 192.0.2.10 ── 192.0.2.1 branch 198.51.100.1 ── 198.51.100.2 core 203.0.113.1 ── br0
 *                                                                 ├ dns1 203.0.113.53   ├ erp 203.0.113.10
 *                                                                 └ dns2 203.0.113.54   └ erp-standby 203.0.113.11
 */
export const ADDRESSES = {
  office: '192.0.2.10',
  branchOffice: '192.0.2.1',
  branchUplink: '198.51.100.1',
  coreUplink: '198.51.100.2',
  coreLan: '203.0.113.1',
  dns1: '203.0.113.53',
  dns2: '203.0.113.54',
  erp: '203.0.113.10',
  erpStandby: '203.0.113.11',
  /** An address nothing answers at: the "wrong address" a broken resolver hands out. */
  nowhere: '203.0.113.99',
} as const;

export const ERP_NAME = 'erp.corp.test';
export const ERP_PORT = 8080;
/** Where each resolver forwards what it does not know: a broken forwarder that answers SERVFAIL. */
const BROKEN_FORWARDER_PORT = 5399;

export type NodeName = 'office' | 'branch' | 'core' | 'dns1' | 'dns2' | 'erp' | 'erp-standby';
export type ResolverName = 'dns1' | 'dns2';
export type ErpName = 'erp' | 'erp-standby';

/** Why a test needs root: `ip netns add` fails otherwise. Undefined when namespaces can be made here. */
export function netnsUnavailable(): string | undefined {
  const probe = `rbprobe-${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error) return `the ip command cannot run (${add.error.message}): install iproute2`;
  if (add.status !== 0) return `ip netns is not permitted here (${add.stderr.trim()}): the topology tests need root`;
  spawnSync('ip', ['netns', 'del', probe]);
  for (const tool of ['ping', 'traceroute', 'dig', 'dnsmasq', 'nft']) {
    if (spawnSync('bash', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is missing: install iputils-ping, traceroute, dnsutils, dnsmasq and nftables`;
  }
  return undefined;
}

function run(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A tiny HTTP service that names itself, so a check can tell the primary from the standby. */
const HTTP_SERVICE = `
const http = require('node:http');
const [address, port, name] = process.argv.slice(1);
http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(name + ' ok\\n'))
  .listen(Number(port), address, () => console.log('listening ' + address + ':' + port));`;

/** A forwarder that answers every query with SERVFAIL (RCODE 2): what a resolver passes on when its upstream is broken. */
const SERVFAIL_FORWARDER = `
const dgram = require('node:dgram');
const socket = dgram.createSocket('udp4');
socket.on('message', (query, from) => {
  if (query.length < 12) return;
  const answer = Buffer.from(query);
  answer[2] = 0x80 | (query[2] & 0x79); // QR, the query's opcode and RD
  answer[3] = 0x82; // RA, RCODE 2 SERVFAIL
  answer.writeUInt16BE(0, 6); answer.writeUInt16BE(0, 8); answer.writeUInt16BE(0, 10);
  socket.send(answer, from.port, from.address);
});
socket.bind(Number(process.argv[1]), '127.0.0.1');`;

export class NetTopology {
  /** The namespaces' common prefix, unique per topology. */
  readonly prefix: string;
  readonly dir: string;
  private readonly processes = new Map<string, ChildProcess>();
  private created: string[] = [];

  private constructor() {
    this.prefix = `rb${randomBytes(3).toString('hex')}-`;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'net-topology-'));
    chmodSync(this.dir, 0o755); // dnsmasq drops to its own user and must read its hosts files
  }

  /** The namespace a node of the topology lives in. */
  ns(node: NodeName): string {
    return `${this.prefix}${node}`;
  }

  /** The dnsmasq hosts file of a resolver (rewritten by faults and by a DNS failover; re-read on SIGHUP). */
  hostsFile(resolver: ResolverName): string {
    return path.join(this.dir, `${resolver}.hosts`);
  }

  /** The resolver's query log (dnsmasq --log-queries). */
  resolverLog(resolver: ResolverName): string {
    return path.join(this.dir, `${resolver}.log`);
  }

  static async create(): Promise<NetTopology> {
    const topology = new NetTopology();
    try {
      await topology.build();
    } catch (error) {
      await topology.destroy();
      throw error;
    }
    return topology;
  }

  /** Runs a command inside a node's namespace; throws with its stderr when it fails. */
  exec(node: NodeName, command: string, args: readonly string[]): string {
    return run('ip', ['netns', 'exec', this.ns(node), command, ...args]);
  }

  private ip(node: NodeName, args: string): void {
    run('ip', ['-n', this.ns(node), ...args.split(' ')]);
  }

  private async build(): Promise<void> {
    const nodes: NodeName[] = ['office', 'branch', 'core', 'dns1', 'dns2', 'erp', 'erp-standby'];
    for (const node of nodes) {
      run('ip', ['netns', 'add', this.ns(node)]);
      this.created.push(this.ns(node));
      this.ip(node, 'link set lo up');
      // Repeated diagnoses send many traces: the kernel's ICMP rate limit would drop their answers and fake a broken path.
      this.exec(node, 'sysctl', ['-qw', 'net.ipv4.icmp_ratelimit=0']);
    }
    // Each veth pair is created with its ends already in their namespaces: no name ever exists in the host's namespace.
    const link = (a: NodeName, aIf: string, aAddr: string, b: NodeName, bIf: string, bAddr?: string) => {
      run('ip', ['link', 'add', aIf, 'netns', this.ns(a), 'type', 'veth', 'peer', 'name', bIf, 'netns', this.ns(b)]);
      this.ip(a, `addr add ${aAddr} dev ${aIf}`);
      this.ip(a, `link set ${aIf} up`);
      if (bAddr) this.ip(b, `addr add ${bAddr} dev ${bIf}`);
      this.ip(b, `link set ${bIf} up`);
    };
    link('office', 'eth0', `${ADDRESSES.office}/24`, 'branch', 'lan0', `${ADDRESSES.branchOffice}/24`);
    link('branch', 'wan0', `${ADDRESSES.branchUplink}/24`, 'core', 'wan0', `${ADDRESSES.coreUplink}/24`);
    this.ip('core', 'link add br0 type bridge');
    this.ip('core', `addr add ${ADDRESSES.coreLan}/24 dev br0`);
    this.ip('core', 'link set br0 up');
    const servers: [NodeName, string][] = [
      ['dns1', ADDRESSES.dns1],
      ['dns2', ADDRESSES.dns2],
      ['erp', ADDRESSES.erp],
      ['erp-standby', ADDRESSES.erpStandby],
    ];
    for (const [node, address] of servers) {
      const port = `p-${node}`.slice(0, 15);
      link(node, 'eth0', `${address}/24`, 'core', port);
      this.ip('core', `link set ${port} master br0`);
      this.ip(node, `route add default via ${ADDRESSES.coreLan}`);
    }
    this.ip('office', `route add default via ${ADDRESSES.branchOffice}`);
    this.ip('branch', `route add default via ${ADDRESSES.coreUplink}`);
    this.ip('core', `route add 192.0.2.0/24 via ${ADDRESSES.branchUplink}`);
    for (const router of ['branch', 'core'] as const) this.exec(router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);

    this.writeHosts('dns1', ADDRESSES.erp);
    this.writeHosts('dns2', ADDRESSES.erp);
    for (const resolver of ['dns1', 'dns2'] as const) {
      this.startIn(resolver, `${resolver}-forwarder`, process.execPath, ['-e', SERVFAIL_FORWARDER, String(BROKEN_FORWARDER_PORT)]);
      this.startIn(resolver, resolver, 'dnsmasq', [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${this.hostsFile(resolver)}`,
        `--listen-address=${resolver === 'dns1' ? ADDRESSES.dns1 : ADDRESSES.dns2}`,
        '--bind-interfaces',
        '--pid-file=',
        '--cache-size=0', // every answer comes from the hosts file as it is now
        `--server=/corp.test/127.0.0.1#${BROKEN_FORWARDER_PORT}`,
        '--log-queries',
        `--log-facility=${this.resolverLog(resolver)}`,
      ]);
    }
    this.startErp('erp');
    this.startErp('erp-standby');
    await this.waitFor(() => this.answers('dns1') && this.answers('dns2') && this.serves('erp') && this.serves('erp-standby'));
  }

  private answers(resolver: ResolverName): boolean {
    const server = resolver === 'dns1' ? ADDRESSES.dns1 : ADDRESSES.dns2;
    const r = spawnSync('ip', ['netns', 'exec', this.ns('office'), 'dig', '+short', '+time=1', '+tries=1', `@${server}`, ERP_NAME], {
      encoding: 'utf8',
    });
    return r.status === 0 && r.stdout.trim().length > 0;
  }

  private serves(erp: ErpName): boolean {
    const address = erp === 'erp' ? ADDRESSES.erp : ADDRESSES.erpStandby;
    const r = spawnSync('ip', ['netns', 'exec', this.ns('office'), 'bash', '-c', `exec 3<>/dev/tcp/${address}/${ERP_PORT}`], {
      timeout: 2000,
    });
    return r.status === 0;
  }

  private async waitFor(ready: () => boolean, what = "the topology's resolvers and ERP services"): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (ready()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${what} did not come up within 10 s (logs in ${this.dir})`);
  }

  private startIn(node: NodeName, name: string, command: string, args: readonly string[]): void {
    const child = spawn('ip', ['netns', 'exec', this.ns(node), command, ...args], { stdio: 'ignore' });
    this.processes.set(name, child);
  }

  private startErp(erp: ErpName): void {
    const address = erp === 'erp' ? ADDRESSES.erp : ADDRESSES.erpStandby;
    this.startIn(erp, erp, process.execPath, ['-e', HTTP_SERVICE, address, String(ERP_PORT), erp]);
  }

  private writeHosts(resolver: ResolverName, erpAddress: string | undefined): void {
    writeFileSync(this.hostsFile(resolver), erpAddress ? `${erpAddress} ${ERP_NAME}\n` : '', { mode: 0o644 });
  }

  /** Makes a resolver re-read its hosts file (dnsmasq does on SIGHUP). */
  reloadResolver(resolver: ResolverName): void {
    this.processes.get(resolver)?.kill('SIGHUP');
  }

  /** The command that reloads a resolver from inside its namespace (what a failover action runs). */
  reloadCommand(resolver: ResolverName): string {
    return `kill -HUP ${this.processes.get(resolver)?.pid}`;
  }

  // Faults, each injected for real.

  /** The branch's uplink to the core goes down (the core's end of the veth pair). */
  linkDown(): void {
    this.ip('core', 'link set wan0 down');
  }

  linkUp(): void {
    this.ip('core', 'link set wan0 up');
  }

  /** An nftables rule on the core router drops forwarded ICMP, or TCP to a port (of one address when given). */
  dropOnCore(what: { icmp: true } | { tcpPort: number; address?: string }): void {
    const rule =
      'icmp' in what ? 'ip protocol icmp drop' : `${what.address ? `ip daddr ${what.address} ` : ''}tcp dport ${what.tcpPort} drop`;
    const script = [
      'table inet fault {',
      '  chain forward {',
      '    type filter hook forward priority 0; policy accept;',
      `    ${rule}`,
      '  }',
      '}',
    ].join('\n');
    const file = path.join(this.dir, 'fault.nft');
    writeFileSync(file, script);
    this.exec('core', 'nft', ['-f', file]);
  }

  /** A resolver answers SERVFAIL for the ERP's name: it no longer holds the record and its forwarder is broken. */
  resolverServfail(resolver: ResolverName): void {
    this.writeHosts(resolver, undefined);
    this.reloadResolver(resolver);
  }

  /** A resolver answers an address where nothing listens. */
  resolverWrongAddress(resolver: ResolverName): void {
    this.writeHosts(resolver, ADDRESSES.nowhere);
    this.reloadResolver(resolver);
  }

  /** The ERP's HTTP service on the primary stops. */
  stopErp(erp: ErpName = 'erp'): void {
    this.processes.get(erp)?.kill('SIGTERM');
    this.processes.delete(erp);
  }

  /** Removes every namespace (their veth pairs go with them) and stops every process started in them. */
  async destroy(): Promise<void> {
    for (const child of this.processes.values()) child.kill('SIGTERM');
    await Promise.all(
      [...this.processes.values()].map(
        (child) =>
          new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode ? resolve() : child.once('exit', () => resolve()))),
      ),
    );
    this.processes.clear();
    for (const ns of this.created) spawnSync('ip', ['netns', 'del', ns]);
    this.created = [];
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The topology's devices, resolvers and ERP service as a diagnosis plan sees them, from the office client. */
export function officeDiagnosisPlan(
  topology: NetTopology,
  options: { erpAddress?: string; probeTimeoutSeconds?: number; parallelism?: number } = {},
): DiagnosisPlan {
  return {
    vantages: [{ name: 'office', namespace: topology.ns('office'), gateway: { name: 'branch-router', address: ADDRESSES.branchOffice } }],
    services: [
      {
        name: 'erp',
        address: options.erpAddress ?? ADDRESSES.erp,
        port: ERP_PORT,
        dnsName: ERP_NAME,
        knownAddresses: [ADDRESSES.erp, ADDRESSES.erpStandby],
        url: `http://${ERP_NAME}:${ERP_PORT}/`,
      },
    ],
    resolvers: [
      { name: 'dns1', address: ADDRESSES.dns1 },
      { name: 'dns2', address: ADDRESSES.dns2 },
    ],
    devices: [
      { name: 'branch-router', role: 'router', addresses: [ADDRESSES.branchOffice, ADDRESSES.branchUplink], uplink: true },
      { name: 'core-router', role: 'router', addresses: [ADDRESSES.coreUplink, ADDRESSES.coreLan], uplink: false },
    ],
    probeTimeoutSeconds: options.probeTimeoutSeconds ?? 10,
    parallelism: options.parallelism ?? 4,
  };
}

/**
 * The topology as the incident catalogue describes it. The switch actions run on `opsHost` (a
 * local inventory host: the worker's machine, which holds the resolvers' record files and can
 * reach the core router's namespace): the ERP's failover rewrites both resolvers' record for
 * erp.corp.test to the standby and makes dnsmasq re-read it; the rollbacks put the resolvers'
 * records, and the core router's link and filter, back to their known good state, keeping what
 * they replace so the undo can restore it.
 */
export function topologyCatalog(topology: NetTopology, opsHost: string): IncidentCatalogInput {
  const resolvers = ['dns1', 'dns2'] as const;
  const records = (address: string) =>
    resolvers.map((r) => `printf '%s %s\\n' ${address} ${ERP_NAME} > ${shellQuote(topology.hostsFile(r))}`).join(' && ');
  const reload = resolvers.map((r) => topology.reloadCommand(r)).join(' && ');
  const kept = (r: string) => shellQuote(`${topology.hostsFile(r as 'dns1')}.before-rollback`);
  const core = shellQuote(topology.ns('core'));
  const saved = shellQuote(path.join(topology.dir, 'core-before-rollback'));
  return {
    services: [
      {
        name: 'erp',
        dnsName: ERP_NAME,
        port: ERP_PORT,
        url: `http://${ERP_NAME}:${ERP_PORT}/`,
        primary: { address: ADDRESSES.erp },
        standby: { address: ADDRESSES.erpStandby },
        failover: { host: opsHost, apply: `${records(ADDRESSES.erpStandby)} && ${reload}`, undo: `${records(ADDRESSES.erp)} && ${reload}` },
      },
    ],
    locations: [
      {
        name: 'office',
        users: ['alice', 'bob'],
        vantage: { namespace: topology.ns('office'), gateway: { name: 'branch-router', address: ADDRESSES.branchOffice } },
      },
    ],
    resolvers: [
      { name: 'dns1', address: ADDRESSES.dns1 },
      { name: 'dns2', address: ADDRESSES.dns2 },
    ],
    devices: [
      { name: 'branch-router', role: 'router', addresses: [ADDRESSES.branchOffice, ADDRESSES.branchUplink], uplink: true },
      { name: 'core-router', role: 'router', addresses: [ADDRESSES.coreUplink, ADDRESSES.coreLan] },
    ],
    rollbacks: [
      {
        name: 'resolver-records',
        description: "restore both resolvers' records to the last known good copy",
        host: opsHost,
        apply: `${resolvers.map((r) => `cp ${shellQuote(topology.hostsFile(r))} ${kept(r)}`).join(' && ')} && ${records(ADDRESSES.erp)} && ${reload}`,
        undo: `${resolvers.map((r) => `cp ${kept(r)} ${shellQuote(topology.hostsFile(r))}`).join(' && ')} && ${reload}`,
      },
      {
        name: 'core-router-config',
        description: "restore the core router's uplink and filter rules to the last known good configuration",
        host: opsHost,
        apply:
          `ip -n ${core} -o link show wan0 | grep -q 'state DOWN' && echo down > ${saved}.link || echo up > ${saved}.link; ` +
          `ip netns exec ${core} nft list table inet fault > ${saved}.nft 2>/dev/null || rm -f ${saved}.nft; ` +
          `ip netns exec ${core} nft delete table inet fault 2>/dev/null; ip -n ${core} link set wan0 up && ` +
          // A link set down loses the static routes through it: the known good configuration has them.
          `ip -n ${core} route replace 192.0.2.0/24 via ${ADDRESSES.branchUplink}`,
        undo: `ip -n ${core} link set wan0 "$(cat ${saved}.link)"; if [ -f ${saved}.nft ]; then ip netns exec ${core} nft -f ${saved}.nft; fi`,
      },
    ],
    isolations: [
      {
        name: 'erp-primary',
        description: 'drop every packet to and from the ERP primary but its loopback (nftables on the host)',
        host: opsHost,
        apply: `ip netns exec ${shellQuote(topology.ns('erp'))} nft ${shellQuote(
          'add table inet runbooks-isolation; ' +
            'add chain inet runbooks-isolation input { type filter hook input priority -10; policy drop; }; ' +
            'add chain inet runbooks-isolation output { type filter hook output priority -10; policy drop; }; ' +
            'add rule inet runbooks-isolation input iif lo accept; add rule inet runbooks-isolation output oif lo accept',
        )}`,
        undo: `ip netns exec ${shellQuote(topology.ns('erp'))} nft delete table inet runbooks-isolation`,
      },
    ],
    logSources: resolvers.map((r) => ({
      host: opsHost,
      name: `${r}-queries`,
      command: `tail -n 20 ${shellQuote(topology.resolverLog(r))}`,
      about: ['erp'],
    })),
    probeTimeoutSeconds: 10,
    parallelism: 4,
    stakeholders: ['#erp-incidents'],
  };
}
