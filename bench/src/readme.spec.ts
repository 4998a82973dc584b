import fs from 'node:fs';
import { README, readResults, renderResults, withResults, BEGIN, END } from './readme';
import type { ResultsFile } from './results';

describe('bench/README.md', () => {
  it('carries exactly the figures of bench/results/latest.json (regenerate with `node bench/dist/readme.js`)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(withResults(readme, readResults())).toBe(readme);
  });

  it('marks a goal that was not met, and a bench that did not do all its work', () => {
    const results: ResultsFile = {
      commit: 'abcdef0123456789',
      dirty: [],
      date: '2026-11-30T22:00:00.000Z',
      machine: { cpus: 2, cpuModel: 'cpu', memoryGb: 8, node: 'v20', platform: 'Linux', loadAverage: [1, 2, 3] },
      command: 'npm run bench',
      benches: [
        {
          bench: 'launch-throughput',
          params: {},
          ok: false,
          problems: ['3 launches failed'],
          tables: [{ caption: 'c', header: ['side', 'p99 | ms'], rows: [['ours', 12]] }],
          goals: [{ goal: 'launch throughput', target: '≥ 0.9', measured: '0.55', met: false }],
          notes: [],
          seconds: 1,
        },
      ],
    };
    const text = renderResults(results);
    expect(text.startsWith(BEGIN) && text.endsWith(END)).toBe(true);
    expect(text).toContain('| launch throughput | ≥ 0.9 | 0.55 | **no** | launch-throughput |');
    expect(text).toContain('all work done: **NO**');
    expect(text).toContain('- PROBLEM: 3 launches failed');
    expect(text).toContain('| side | p99 \\| ms |');
  });
});
