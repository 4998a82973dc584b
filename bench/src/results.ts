/**
 * What every bench hands back: its tables, the goals it checks and whether each side did all its
 * work. `npm run bench` (run-all.ts) gathers them into bench/results/latest.json with the commit,
 * date and machine; readme.ts writes bench/README.md's tables from that file, never by hand.
 */
import fs from 'node:fs';
import { table } from './stats';

export interface ResultTable {
  caption: string;
  header: string[];
  rows: (string | number)[][];
}

/** A goal of issue 15 (or 9) as the bench measured it. `met` is null when it could not be measured. */
export interface GoalResult {
  goal: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export interface BenchResult {
  bench: string;
  /** The command line's options as the bench understood them (rounds, sizes). */
  params: Record<string, unknown>;
  /** False when a side did not do all its work (a run failed, a count is short): the bench exits non-zero. */
  ok: boolean;
  problems: string[];
  tables: ResultTable[];
  goals: GoalResult[];
  /** Notes the README prints under the bench's tables (what was measured, how). */
  notes: string[];
  seconds: number;
  /**
   * Set when this result came from a later run than the file's own (`--only … --merge`): that
   * run's commit, date, command and load, so the README says where each figure comes from.
   */
  run?: RunProvenance;
}

export interface RunProvenance {
  commit: string;
  dirty: string[];
  date: string;
  command: string;
  loadAverage: number[];
}

export interface ResultsFile {
  commit: string;
  /** Files changed since the commit when the run started (none for a run at a clean commit). */
  dirty: string[];
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string; loadAverage: number[] };
  command: string;
  benches: BenchResult[];
}

/** The file a bench writes its result to (`--out`), or undefined when run by hand. */
export function outArg(): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--out');
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Collects one bench's figures; `finish` prints the problems and writes the result for run-all. */
export class BenchReport {
  readonly result: BenchResult;
  private readonly started = Date.now();

  constructor(bench: string, params: Record<string, unknown>) {
    this.result = { bench, params, ok: true, problems: [], tables: [], goals: [], notes: [], seconds: 0 };
  }

  /** A side did not do all its work: the bench fails (exit 1) whatever its figures. */
  problem(message: string): void {
    this.result.ok = false;
    this.result.problems.push(message);
    console.error(`PROBLEM: ${message}`);
  }

  check(condition: boolean, message: string): void {
    if (!condition) this.problem(message);
  }

  table(caption: string, header: string[], rows: (string | number)[][]): void {
    this.result.tables.push({ caption, header, rows });
    console.log(`\n${caption}\n${table(header, rows)}`);
  }

  /** A goal as measured: `met` null when this run could not measure it. */
  goal(goal: string, target: string, measured: string, met: boolean | null): void {
    this.result.goals.push({ goal, target, measured, met });
    console.log(`goal: ${goal}: ${measured} (target ${target}): ${met === null ? 'not measured' : met ? 'MET' : 'NOT MET'}`);
  }

  note(text: string): void {
    this.result.notes.push(text);
  }

  finish(): number {
    this.result.seconds = Math.round((Date.now() - this.started) / 1000);
    const out = outArg();
    if (out) fs.writeFileSync(out, JSON.stringify(this.result, null, 2));
    return this.result.ok ? 0 : 1;
  }
}
