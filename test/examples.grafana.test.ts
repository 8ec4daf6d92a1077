/**
 * examples/grafana-dashboard.json is a Grafana dashboard that uses only
 * metrics the worker and the dashboard serve (the README's tables), and
 * each of those at least once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './worker.harness.js';

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

describe('examples/grafana-dashboard.json', () => {
  it('queries the documented metrics, and every one of them', () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'examples', 'grafana-dashboard.json'), 'utf8')) as { title: string; panels: Panel[] };
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Metrics (Prometheus)'), readme.indexOf('### Traces (OpenTelemetry)'));
    const documented = new Set([...section.matchAll(/^\| `(qless_\w+)`(?:, `(qless_\w+)`)?(?:, `(qless_\w+)`)?/gm)].flatMap((m) => [m[1], m[2], m[3]].filter((n): n is string => n !== undefined)));
    expect(documented.size).toBe(18);
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      if (panel.type === 'row') continue;
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        for (const m of target.expr.matchAll(/\b(qless_\w+?)(?:_bucket|_sum|_count)?\b(?=[{[\s)]|$)/g)) {
          const name = documented.has(m[0]) ? m[0] : m[1]!;
          expect(documented.has(name), `${panel.title}: ${m[0]}`).toBe(true);
          used.add(name);
        }
      }
    }
    expect([...documented].filter((name) => !used.has(name))).toEqual([]);
  });
});
