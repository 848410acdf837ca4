import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { report, type BenchResult } from '../../bench/report.js';

// The quick `--vs debezium --debezium-tuned` run that docs/benchmarks.md quotes.
const result = JSON.parse(readFileSync(new URL('../../docs/benchmarks-vs-debezium.json', import.meta.url), 'utf8')) as BenchResult;

describe('bench report beside Debezium', () => {
  it('prints every workload with cdc, Debezium and tuned Debezium, and the ratio of cdc to each', () => {
    const text = report(result);
    const vs = result.vs_debezium;
    expect(vs).toBeDefined();
    expect(text).toContain(`vs Debezium ${vs?.debezium} on Kafka Connect ${vs?.kafka_connect}`);
    for (const s of result.kafka?.source ?? []) {
      const d = s.debezium;
      const t = s.debezium_tuned;
      if (!d || !t) throw new Error('the run has both Debezium variants on every workload');
      const line = text.split('\n').find((l) => l.startsWith(`[kafka] vs Debezium tx of ${s.per_tx} `));
      expect(line).toContain(`cdc ${String(s.source_rows_per_s).padStart(8)} rows/s, ${s.cdc_cpu_seconds.toFixed(1)} CPU s`);
      expect(line).toContain(`Debezium ${String(d.rows_per_s).padStart(8)} rows/s, ${d.cpu_seconds.toFixed(1)} CPU s`);
      expect(line).toContain(`ratio ${(s.source_rows_per_s / d.rows_per_s).toFixed(2)}`);
      expect(line).toContain(`tuned ${String(t.rows_per_s).padStart(8)} rows/s`);
      expect(line).toContain(`ratio ${(s.source_rows_per_s / t.rows_per_s).toFixed(2)}`);
    }
    expect(text).toMatch(/\[kafka\] vs Debezium all +cdc +9480 rows\/s +Debezium +2542 rows\/s +ratio 3\.73 +tuned +3115 rows\/s +ratio 3\.04/);
  });

  it('prints no Debezium lines for a run without --vs debezium', () => {
    const plain = JSON.parse(readFileSync(new URL('../../docs/benchmarks.json', import.meta.url), 'utf8')) as BenchResult;
    expect(report(plain)).not.toContain('Debezium');
  });
});
