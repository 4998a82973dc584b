import type { ProbeResult, ProbeSpec, Vantage } from '@runbooks/contracts';
import type { CommandResult, CommandSession } from '../hosts/command-driver';
import { summary } from '../hosts/command-driver';
import { LocalTransport } from '../hosts/local';
import { shellQuote } from '../hosts/os-commands';

/** How much of a tool's output a result keeps for the report. */
const RAW_LIMIT = 4_000;

/**
 * The command of one probe: read-only tools from Debian (iputils-ping, traceroute, iproute2,
 * dnsutils, curl) and bash's /dev/tcp. Every value is shell-quoted; every tool has its own
 * limits inside the probe's timeout.
 */
export function probeCommand(probe: ProbeSpec, timeoutSeconds: number): string {
  const wait = String(Math.max(1, Math.min(2, timeoutSeconds - 1)));
  switch (probe.kind) {
    case 'ping':
      return `ping -n -c 3 -i 0.2 -W ${wait} ${shellQuote(probe.address)}`;
    case 'traceroute':
      return `traceroute -n -N 1 -q 1 -w 1 -m 6 ${shellQuote(probe.address)}`;
    case 'neighbour':
      // One ping makes the kernel resolve the gateway's link address; the entry's state says whether it answered.
      return `ping -n -c 1 -W ${wait} ${shellQuote(probe.address)} >/dev/null 2>&1; ip neigh show ${shellQuote(probe.address)}`;
    case 'tcp':
      return `timeout ${wait} bash -c ${shellQuote(`exec 3<>/dev/tcp/${probe.address}/${probe.port}`)}; code=$?; echo "exit $code"; exit $code`;
    case 'dns':
      return `dig +time=${wait} +tries=1 +noall +comments +answer @${shellQuote(probe.resolverAddress)} ${shellQuote(probe.name)} A`;
    case 'http': {
      // The URL names the service; the connection goes to the address and port probed now (primary or standby).
      const url = new URL(probe.url);
      const urlPort = url.port || (url.protocol === 'https:' ? '443' : '80');
      return (
        `curl -sS -o /dev/null -w 'HTTP %{http_code}\\n' --max-time ${wait} ` +
        `--connect-to ${shellQuote(`${url.hostname}:${urlPort}:${probe.address}:${probe.port}`)} ${shellQuote(probe.url)}`
      );
    }
  }
}

/** Reads what the tool printed into the probe's result. */
export function interpret(vantage: string, probe: ProbeSpec, command: string, result: CommandResult): ProbeResult {
  const read = readOutput(vantage, probe, command, result);
  // What a stopped probe printed so far still counts (a trace's hops); the probe itself is reported as hanging.
  return result.timedOut ? { ...read, status: 'hung', summary: `hung, stopped at its timeout; so far: ${read.summary}` } : read;
}

function readOutput(vantage: string, probe: ProbeSpec, command: string, result: CommandResult): ProbeResult {
  const raw = `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`.slice(0, RAW_LIMIT);
  const base = { vantage, probe, command, raw };
  const out = result.stdout;
  switch (probe.kind) {
    case 'ping': {
      const m = /(\d+) packets transmitted, (\d+) (?:packets )?received.*?([\d.]+)% packet loss/.exec(out);
      if (!m) return { ...base, status: 'failed', summary: `ping said: ${summary(raw) || 'nothing'}`, observed: {} };
      const loss = Number(m[3]);
      return {
        ...base,
        status: loss === 0 ? 'ok' : 'failed',
        summary: `${m[1]} sent, ${m[2]} received (${loss}% loss)`,
        observed: { lossPercent: loss },
      };
    }
    case 'traceroute': {
      const hops: (string | null)[] = [];
      for (const line of out.split('\n')) {
        const m = /^\s*(\d+)\s+(\S+)/.exec(line);
        if (!m) continue;
        // "!H", "!N", "!X": a router on the way reports the destination unreachable; it is not a further hop.
        const unreachable = /!\w/.test(line) && m[2] !== probe.address;
        hops[Number(m[1]) - 1] = m[2] === '*' || unreachable ? null : m[2];
      }
      const reached = hops.includes(probe.address);
      const shown = hops.map((h, i) => `${i + 1} ${h ?? '*'}`).join(', ');
      return {
        ...base,
        status: reached ? 'ok' : 'failed',
        summary: `hops: ${shown || 'none'}`,
        observed: { hops: reached ? hops.slice(0, hops.indexOf(probe.address) + 1) : hops, reached },
      };
    }
    case 'neighbour': {
      const state = /\b(REACHABLE|STALE|DELAY|PROBE|PERMANENT|FAILED|INCOMPLETE|NOARP)\s*$/.exec(out.trim())?.[1] ?? 'none';
      const ok = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT', 'NOARP'].includes(state);
      const lladdr = /lladdr (\S+)/.exec(out)?.[1];
      return {
        ...base,
        status: ok ? 'ok' : 'failed',
        summary: ok
          ? `neighbour ${probe.address} ${state} at ${lladdr ?? 'no link address'}`
          : `neighbour entry ${state === 'none' ? 'absent' : state}`,
        observed: { neighbourState: state },
      };
    }
    case 'tcp': {
      const exit = /exit (\d+)/.exec(out);
      const code = exit ? Number(exit[1]) : -1;
      const tcp = code === 0 ? 'open' : code === 124 ? 'filtered' : /refused/i.test(result.stderr) ? 'refused' : 'unreachable';
      const said =
        tcp === 'open'
          ? 'open'
          : tcp === 'filtered'
            ? 'no answer (filtered)'
            : tcp === 'refused'
              ? 'connection refused'
              : summary(result.stderr) || 'unreachable';
      return {
        ...base,
        status: tcp === 'open' ? 'ok' : 'failed',
        summary: `TCP ${probe.address}:${probe.port} ${said}`,
        observed: { tcp },
      };
    }
    case 'dns': {
      const rcode = /status: ([A-Z]+)/.exec(out)?.[1];
      const answers = out
        .split('\n')
        .filter((line) => line && !line.startsWith(';'))
        .map((line) => line.split(/\s+/))
        .filter((f) => f[3] === 'A')
        .map((f) => f[4]);
      if (!rcode)
        return {
          ...base,
          status: 'failed',
          summary: `no answer from ${probe.resolverAddress}: ${summary(raw) || 'nothing'}`,
          observed: {},
        };
      return {
        ...base,
        status: rcode === 'NOERROR' && answers.length > 0 ? 'ok' : 'failed',
        summary: `${rcode}${answers.length ? `: ${answers.join(', ')}` : ''}`,
        observed: { rcode, answers },
      };
    }
    case 'http': {
      const status = Number(/HTTP (\d{3})/.exec(out)?.[1] ?? 0);
      const ok = status >= 200 && status < 400;
      return {
        ...base,
        status: ok ? 'ok' : 'failed',
        summary: status ? `answers HTTP ${status}` : `no HTTP answer: ${summary(result.stderr) || `curl exit ${result.code}`}`,
        observed: { httpStatus: status },
      };
    }
  }
}

/**
 * Where a probe runs: on the worker, or inside a network namespace on it (`ip netns exec`). Both
 * run in the local driver's session (own process group, killed on timeout and cancellation).
 */
export async function openVantage(vantage: Vantage, signal?: AbortSignal): Promise<CommandSession> {
  const local = await new LocalTransport().open({} as never, signal);
  if (!vantage.namespace) return local;
  const namespace = vantage.namespace;
  return {
    run: (script, timeoutMs, s) => local.run(`exec ip netns exec ${shellQuote(namespace)} bash -c ${shellQuote(script)}`, timeoutMs, s),
    close: () => local.close(),
  };
}

/** Runs probes at most `parallelism` at a time; each gets `timeoutSeconds`, after which it is stopped and reported as hung. */
export async function runProbes(
  probes: readonly { vantage: Vantage; probe: ProbeSpec }[],
  options: { timeoutSeconds: number; parallelism: number; signal?: AbortSignal; onResult?: (result: ProbeResult) => void },
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = new Array(probes.length);
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const i = next++;
      const { vantage, probe } = probes[i];
      const command = probeCommand(probe, options.timeoutSeconds);
      const session = await openVantage(vantage, options.signal);
      try {
        results[i] = interpret(vantage.name, probe, command, await session.run(command, options.timeoutSeconds * 1000, options.signal));
        options.onResult?.(results[i]);
      } finally {
        session.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallelism, probes.length)) }, worker));
  return results;
}
