import { runbookMetricNames } from '@runbooks/activities';
import fs from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
/** Metrics the service exports besides its own: the Temporal SDK's gauge (checked in metrics-and-traces.test.ts) and prom-client's process metrics. */
const OTHER_EXPORTED = ['temporal_num_pollers', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds'];
/** Metrics of other programs the alert rules may name: the Temporal server's own. */
const TEMPORAL_SERVER = ['schedule_missed_catchup_window'];
const PROMQL_WORDS = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'le', 'absent', 'or', 'unless', 'on', 'and']);

/** The metric names a PromQL expression selects: identifiers not called as functions, no keyword, label or duration. */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|on|without)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const calledAsFunction = /^\s*\(/.test(bare.slice(match.index + match[0].length));
    if (!calledAsFunction && !PROMQL_WORDS.has(match[0]) && !match[0].startsWith('$')) names.push(match[0]);
  }
  return names;
}

function exportedSeries(): Set<string> {
  const names = new Set(OTHER_EXPORTED);
  for (const name of runbookMetricNames()) for (const suffix of ['', '_bucket', '_count', '_sum']) names.add(`${name}${suffix}`);
  return names;
}

describe('the Grafana dashboard and the alert rules', () => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot, 'ops', 'grafana', 'runbooks.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

  it('queries only metrics the service exports, and every runbook metric is on a panel', () => {
    const exported = exportedSeries();
    const unknown = exprs.flatMap(({ panel, expr }) =>
      metricsIn(expr)
        .filter((m) => !exported.has(m))
        .map((m) => `${panel}: ${m}`),
    );
    expect(unknown).toEqual([]);
    const queried = new Set(exprs.flatMap(({ expr }) => metricsIn(expr)).map((m) => m.replace(/_(bucket|count|sum)$/, '')));
    expect(runbookMetricNames().filter((m) => !queried.has(m))).toEqual([]);
  });

  it('the expression reader finds what a query names (so the check above can fail)', () => {
    expect(
      metricsIn('histogram_quantile(0.95, sum by (le, route) (rate(runbooks_api_request_duration_seconds_bucket{a="b_c"}[5m])))'),
    ).toEqual(['runbooks_api_request_duration_seconds_bucket']);
    expect(metricsIn('sum(runbooks_not_a_metric_total) or absent(temporal_num_pollers)')).toEqual([
      'runbooks_not_a_metric_total',
      'temporal_num_pollers',
    ]);
  });

  it('alert rules name only exported metrics or the Temporal server’s', () => {
    const rules = fs.readFileSync(path.join(repoRoot, 'ops', 'prometheus', 'alerts.yml'), 'utf8');
    const exprsInRules = [...rules.matchAll(/expr: (?:\|\n((?:\s{10}.*\n)+)|(.*))/g)].map((m) => m[1] ?? m[2]);
    expect(exprsInRules.length).toBeGreaterThanOrEqual(5);
    const allowed = new Set([...exportedSeries(), ...TEMPORAL_SERVER]);
    expect(exprsInRules.flatMap((e) => metricsIn(e)).filter((m) => !allowed.has(m))).toEqual([]);
  });
});
