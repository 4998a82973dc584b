/**
 * Writes bench/README.md's figures from bench/results/latest.json: everything between the two
 * markers below is generated, so no figure is typed by hand and none outlives the run it came from.
 *
 *   node bench/dist/readme.js           rewrite the generated part
 *   node bench/dist/readme.js --check   exit 1 when README.md does not match the results file
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult, ResultsFile, ResultTable, RunProvenance } from './results';

export const BEGIN = '<!-- generated from results/latest.json by `node bench/dist/readme.js`: do not edit by hand -->';
export const END = '<!-- end of generated results -->';

const benchDir = path.resolve(__dirname, '..');
export const README = path.join(benchDir, 'README.md');
export const LATEST = path.join(benchDir, 'results', 'latest.json');

function cell(value: string | number): string {
  return String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function markdownTable(t: ResultTable): string {
  const lines = [`| ${t.header.map(cell).join(' | ')} |`, `|${t.header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of t.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

function benchSection(b: BenchResult, headerDate: string): string {
  const parts = [
    `### ${b.bench}`,
    '',
    `Options: \`${JSON.stringify(b.params)}\`; ${b.seconds} s; all work done: **${b.ok ? 'yes' : 'NO'}**.`,
  ];
  if (b.run) parts.push('', `From ${runWord(b.run, headerDate)} run than the header's: ${provenance(b.run)}.`);
  for (const p of b.problems) parts.push('', `- PROBLEM: ${p}`);
  for (const t of b.tables) parts.push('', t.caption, '', markdownTable(t));
  for (const n of b.notes) parts.push('', n);
  return parts.join('\n');
}

/** Which way a bench's own run lies from the file's (the header's) run. */
function runWord(run: RunProvenance, headerDate: string): string {
  return run.date < headerDate ? 'an earlier' : 'a later';
}

function provenance(run: RunProvenance): string {
  const dirty = run.dirty.length ? ` with uncommitted changes in ${run.dirty.join(', ')}` : '';
  return `\`${run.command}\` at commit \`${run.commit.slice(0, 12)}\`${dirty}, ${run.date}, load average at the start ${run.loadAverage.map((l) => l.toFixed(2)).join(' / ')}`;
}

/** The generated part of the README for one results file. */
export function renderResults(r: ResultsFile): string {
  const m = r.machine;
  const goals = r.benches.flatMap((b) => b.goals.map((g) => ({ ...g, bench: b.bench, run: b.run })));
  const parts = [
    BEGIN,
    '',
    `Run \`${r.command}\` at commit \`${r.commit.slice(0, 12)}\`${r.dirty.length ? ` with uncommitted changes in ${r.dirty.join(', ')}` : ''}, ` +
      `${r.date}; ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB memory, Node ${m.node} on ${m.platform}; load average at the start ` +
      `${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')} (the machine is shared: every figure is a ratio against bare Temporal code run interleaved in the same run).`,
    '',
    '### Goals',
    '',
    markdownTable({
      caption: '',
      header: ['goal', 'target', 'measured', 'met', 'bench'],
      rows: goals.map((g) => [
        g.goal,
        g.target,
        g.measured,
        g.met === null ? 'not measured' : g.met ? 'yes' : '**no**',
        g.bench + (g.run ? ' (later run)' : ''),
      ]),
    }),
    '',
    ...r.benches.map((b) => `${benchSection(b, r.date)}\n`),
    END,
  ];
  return parts.join('\n');
}

/** README text with its generated part replaced (the markers must be there once each). */
export function withResults(readme: string, results: ResultsFile): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${README} lacks the generated-results markers`);
  return readme.slice(0, begin) + renderResults(results) + readme.slice(end + END.length);
}

export function readResults(file = LATEST): ResultsFile {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile;
}

if (require.main === module) {
  const readme = fs.readFileSync(README, 'utf8');
  const expected = withResults(readme, readResults());
  if (process.argv.includes('--check')) {
    if (expected !== readme) {
      console.error('bench/README.md does not match bench/results/latest.json: run `node bench/dist/readme.js`');
      process.exit(1);
    }
    console.log('bench/README.md matches bench/results/latest.json');
  } else {
    fs.writeFileSync(README, expected);
    console.log(`wrote ${README} from ${LATEST}`);
  }
}
