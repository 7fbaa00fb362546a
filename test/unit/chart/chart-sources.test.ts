// The chart stays in step with what it packages: its version and appVersion are package.json's, its
// alerts and dashboard query metrics Rollcall exports, its values doc is generated from the schema,
// and every value of values.yaml is declared by the schema (which refuses undeclared ones).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Metrics } from '../../../src/process/metrics.ts';
import { INSTALL_DOC, SCHEMA_FILE, VALUES_FILE, renderInstallDoc } from '../../../scripts/chart/values-doc.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CHART = join(ROOT, 'charts', 'rollcall');
const read = (path: string) => readFileSync(path, 'utf8');

/** Metric names a PromQL text mentions: rollcall_*, controller_runtime_*, workqueue_* (a histogram's _bucket trimmed). */
function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\b((?:rollcall|controller_runtime|workqueue)_[a-z_]+)/g)].map((m) => m[1]!.replace(/_bucket$|_sum$|_count$/, '')));
}

describe('charts/rollcall', () => {
  it("Chart.yaml's version and appVersion are package.json's version", () => {
    const chart = parse(read(join(CHART, 'Chart.yaml'))) as { version: string; appVersion: string };
    const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };
    expect(chart.version).toBe(pkg.version);
    expect(chart.appVersion).toBe(pkg.version);
  });

  it('the PrometheusRule and the Grafana dashboard query only metrics Rollcall exports', async () => {
    const exported = new Set((await new Metrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name));
    const rule = metricNames(read(join(CHART, 'templates', 'prometheusrule.yaml')));
    const dashboard = metricNames(read(join(CHART, 'dashboards', 'rollcall.json')));
    // The five alerts the chart promises, each on its metric.
    expect([...rule].sort()).toEqual([
      'controller_runtime_reconcile_errors_total',
      'rollcall_connector_operations_total',
      'rollcall_deletion_guard_tripped_total',
      'rollcall_deprovision_latency_seconds',
      'rollcall_leader',
    ]);
    for (const name of [...rule, ...dashboard]) expect(exported, name).toContain(name);
    expect(dashboard.size).toBeGreaterThan(5);
  });

  it('docs/install.md lists every value as the schema declares it (npm run chart-docs when this fails)', () => {
    expect(read(INSTALL_DOC)).toBe(renderInstallDoc(read(INSTALL_DOC)));
  });

  it('every key of values.yaml is declared by values.schema.json, which allows no other', () => {
    interface Schema {
      type?: string;
      properties?: Record<string, Schema>;
      additionalProperties?: unknown;
    }
    const schema = JSON.parse(read(SCHEMA_FILE)) as Schema;
    const values = parse(read(VALUES_FILE)) as Record<string, unknown>;
    const undeclared: string[] = [];
    const open: string[] = [];
    const walk = (node: Schema, value: unknown, path: string) => {
      if (node.type === 'object' && node.properties) {
        if (node.additionalProperties !== false) open.push(path || '(root)');
        for (const key of Object.keys((value as Record<string, unknown>) ?? {})) {
          const child = node.properties[key];
          if (!child) undeclared.push(`${path}${key}`);
          else walk(child, (value as Record<string, unknown>)[key], `${path}${key}.`);
        }
      }
    };
    walk(schema, values, '');
    expect(undeclared).toEqual([]);
    expect(open).toEqual([]);
  });
});
