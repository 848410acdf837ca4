import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { drawChart } from '../../bench/chart.js';
import type { BenchResult } from '../../bench/report.js';

const result = JSON.parse(readFileSync(new URL('../../docs/benchmarks.json', import.meta.url), 'utf8')) as BenchResult;

describe('bench chart', () => {
  it('is one SVG document with a labelled bar for every figure and its baseline', () => {
    const svg = drawChart(result);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const [label, f] of [['embedded', result.embedded], ['kafka', result.kafka]] as const) {
      if (!f) continue;
      expect(svg).toContain(`>${label} bootstrap</text>`);
      expect(svg).toContain(`>${label} p99</text>`);
      expect(svg).toContain(`>${f.e2e_p99_ms} ms</text>`);
      for (const s of f.source) expect(svg).toContain(`${(s.source_rows_per_s / s.recvlogical_rows_per_s).toFixed(2)}×</text>`);
    }
    expect(svg).toContain('>goal p99 20 ms</text>');
  });

  it('draws bars on a log axis: ten times the value, one decade (147.5 px) longer', () => {
    const svg = drawChart(result);
    const widthOf = (label: string): number => {
      const at = svg.indexOf(`>${label}</text>`);
      return Number(/<rect x="300" y="[\d.]+" width="([\d.]+)"/.exec(svg.slice(at))?.[1]);
    };
    const f = result.embedded ?? result.kafka;
    if (!f) throw new Error('docs/benchmarks.json has no log figures');
    const label = result.embedded ? 'embedded p50' : 'kafka p50';
    // The latency axis runs from 1 ms to 10 s over 590 px: 147.5 px a decade.
    expect(widthOf(label)).toBeCloseTo(147.5 * Math.log10(f.e2e_p50_ms), 0);
  });

  it('escapes text for SVG', () => {
    const svg = drawChart({ ...result, e2e_offered_rows_per_s: '<&>' as unknown as number });
    expect(svg).toContain('at &lt;&amp;&gt; rows/s');
  });
});
