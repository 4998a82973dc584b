/**
 * `npm run bench`: every bench, one after another (each starts and stops its own dev server),
 * each writing its result; then bench/results/latest.json (commit, date, machine, every result)
 * and bench/README.md's tables from it. Exits 1 when any bench did not do all its work.
 *
 *   node bench/dist/run-all.js [--smoke] [--only a,b] [--large] [--fleet-rounds N]
 *
 * `--smoke` shortens every bench (a CI-like check that they all still run) and writes
 * results/smoke.json, leaving latest.json and the README alone. `--large` adds the 100,000-host
 * fleet campaign (ours alone) and 10,000 runs parked on a worker with its default cache cap. `--only` runs the named benches
 * and writes results/partial.json; with `--merge` it puts their results into latest.json instead, each marked
 * with its own run (commit, date, load), replacing that bench's earlier result, and regenerates the README.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flagArg, intArg } from './common';
import { LATEST, README, readResults, withResults } from './readme';
import type { BenchResult, ResultsFile, RunProvenance } from './results';

const SMOKE = flagArg('smoke');
const LARGE = flagArg('large');
/** Two rounds, the side going first turning: one round's ratio has no spread to show. */
const FLEET_ROUNDS = intArg('fleet-rounds', SMOKE ? 1 : 2);
const MERGE = flagArg('merge');
const benchDir = path.resolve(__dirname, '..');
const repoRoot = path.resolve(benchDir, '..');

interface Planned {
  name: string;
  script: string;
  args: string[];
}

const PLAN: Planned[] = [
  { name: 'step-overhead', script: 'step-overhead.js', args: [] },
  // Each approval is a few ms, so one round's p50 moves by a whole ms with the machine: more rounds, a steadier median.
  { name: 'approval-latency', script: 'approval-latency.js', args: ['--rounds', '5', '--approvals', '30'] },
  { name: 'launch-throughput', script: 'launch-throughput.js', args: [] },
  { name: 'parked-runs', script: 'parked-runs.js', args: [] },
  { name: 'run-detail', script: 'run-detail.js', args: [] },
  // Last and bounded longer: on a loaded 2-core machine 10,000 hosts take up to ~15 minutes a side.
  {
    name: 'fleet-rollout',
    script: 'fleet-rollout.js',
    args: ['--rounds', String(FLEET_ROUNDS), '--max-minutes', String(35 * FLEET_ROUNDS)],
  },
  ...(LARGE
    ? [
        { name: 'fleet-rollout-100000', script: 'fleet-rollout.js', args: ['--hosts', '100000', '--ours-only', '--max-minutes', '60'] },
        { name: 'parked-runs-capped', script: 'parked-runs.js', args: ['--capped', '--parked', '10000', '--max-minutes', '40'] },
      ]
    : []),
];

function onlyArg(): string[] | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--only');
  return i >= 0 ? argv[i + 1].split(',') : undefined;
}

function runBench(planned: Planned, out: string): Promise<BenchResult> {
  const args = [path.join(__dirname, planned.script), ...planned.args, ...(SMOKE ? ['--smoke'] : []), '--out', out];
  console.log(`\n=== ${planned.name}: node ${path.relative(repoRoot, args[0])} ${args.slice(1, -2).join(' ')}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      let result: BenchResult | undefined;
      try {
        result = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResult;
      } catch {
        result = undefined;
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      if (!result) {
        resolve({
          bench: planned.name,
          params: { args: planned.args },
          ok: false,
          problems: [`exited ${signal ?? code} without a result (crashed or aborted at its time bound): see the console output`],
          tables: [],
          goals: [],
          notes: [],
          seconds,
        });
      } else if (code !== 0 && result.ok) {
        resolve({ ...result, ok: false, problems: [...result.problems, `exited ${signal ?? code}`] });
      } else resolve(result);
    });
  });
}

/** The latest results with `partial`'s benches in place of theirs (or added), each marked with the run it came from. */
function mergedInto(latest: ResultsFile, partial: ResultsFile): ResultsFile {
  const run: RunProvenance = {
    commit: partial.commit,
    dirty: partial.dirty,
    date: partial.date,
    command: partial.command,
    loadAverage: partial.machine.loadAverage,
  };
  const fresh = new Map(partial.benches.map((b) => [b.bench, { ...b, run }]));
  const benches = latest.benches.map((b) => fresh.get(b.bench) ?? b);
  for (const b of fresh.values()) if (!latest.benches.some((l) => l.bench === b.bench)) benches.push(b);
  return { ...latest, benches };
}

/** The benches only `--large` runs. */
const LARGE_ONLY = ['fleet-rollout-100000', 'parked-runs-capped'];

/**
 * A full run without `--large` keeps the large benches' results of the file it replaces, each
 * marked with the run it came from, rather than dropping figures it did not measure again.
 */
function withLargeKept(results: ResultsFile): ResultsFile {
  let previous: ResultsFile;
  try {
    previous = readResults();
  } catch {
    return results;
  }
  const ownRun: RunProvenance = {
    commit: previous.commit,
    dirty: previous.dirty,
    date: previous.date,
    command: previous.command,
    loadAverage: previous.machine.loadAverage,
  };
  const kept = previous.benches.filter((b) => LARGE_ONLY.includes(b.bench)).map((b) => ({ ...b, run: b.run ?? ownRun }));
  return { ...results, benches: [...results.benches, ...kept] };
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
}

async function main(): Promise<number> {
  const only = onlyArg();
  const plan = only ? PLAN.filter((p) => only.includes(p.name)) : PLAN;
  if (plan.length === 0) throw new Error(`--only names no bench; the benches are ${PLAN.map((p) => p.name).join(', ')}`);
  const generated = new Set(['bench/README.md', 'bench/results/latest.json', 'bench/results/smoke.json']);
  const results: ResultsFile = {
    commit: git('rev-parse', 'HEAD'),
    // Not through git(): its trim would take the first line's leading status space, and with it a letter of the path.
    dirty: execFileSync('git', ['status', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
      .filter((f) => !generated.has(f)),
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 1024 ** 3),
      node: process.version,
      platform: `${os.type()} ${os.release()}`,
      loadAverage: os.loadavg(),
    },
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    benches: [],
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runbooks-bench-results-'));
  try {
    for (const planned of plan) results.benches.push(await runBench(planned, path.join(tmp, `${planned.name}.json`)));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (MERGE && (!only || SMOKE)) throw new Error('--merge goes with --only (and not --smoke)');
  const file = MERGE ? LATEST : SMOKE || only ? path.join(benchDir, 'results', SMOKE ? 'smoke.json' : 'partial.json') : LATEST;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const written = MERGE ? mergedInto(readResults(), results) : file === LATEST && !LARGE ? withLargeKept(results) : results;
  fs.writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(repoRoot, file)}`);
  // A full run's figures go into the README, and merged or kept ones marked with their own run; a smoke or partial run's never.
  if (file === LATEST) {
    fs.writeFileSync(README, withResults(fs.readFileSync(README, 'utf8'), readResults()));
    console.log(`wrote ${path.relative(repoRoot, README)}`);
  }
  const failed = results.benches.filter((b) => !b.ok);
  for (const b of failed) console.error(`FAILED ${b.bench}: ${b.problems.join('; ')}`);
  console.log(`\n${results.benches.length - failed.length} of ${results.benches.length} benches did all their work`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench run failed:', error);
    process.exit(1);
  },
);
