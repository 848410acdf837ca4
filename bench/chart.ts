/**
 * The chart docs/benchmarks.md shows, drawn from the bench's JSON: throughput of each log next to
 * its same-run baseline, and end-to-end latency, both on log scales (the figures span three orders
 * of magnitude, and a ratio reads as a constant distance on a log axis).
 *
 * Written as SVG text: small, diffable in review, rendered by GitHub and any browser, and nothing
 * to install.
 */
import type { BenchResult, LabelledLogFigures } from './report.js';

const W = 1000;
const INK = '#1e1e1e';
const GRID = '#e1e1e1';
const MUTED = '#6e6e6e';
const CDC: Record<'embedded' | 'kafka', string> = { embedded: '#2e7d32', kafka: '#1565c0' };
const BASELINE = '#9e9e9e';
const GOAL = '#c62828';
const LEFT = 300;
const RIGHT = 110;
const BAR = 16;

interface Bar {
  label: string;
  value: number;
  colour: string;
  text: string;
}

/** Text escaped for SVG character data and attribute values. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number): string => String(Math.round(v * 10) / 10);

function text(x: number, y: number, s: string, fill: string, size: number, anchor: 'start' | 'middle' | 'end' = 'start', bold = false): string {
  return `<text x="${num(x)}" y="${num(y)}" fill="${fill}" font-size="${size}"${anchor === 'start' ? '' : ` text-anchor="${anchor}"`}${bold ? ' font-weight="bold"' : ''}>${esc(s)}</text>`;
}

function rect(x: number, y: number, w: number, h: number, fill: string): string {
  return `<rect x="${num(x)}" y="${num(y)}" width="${num(Math.max(w, 0))}" height="${num(h)}" fill="${fill}"/>`;
}

/** Horizontal bars on a log axis from `lo` to `hi`, into `out`; returns the y below the panel. */
function panel(out: string[], top: number, title: string, bars: Bar[], lo: number, hi: number, unit: (v: number) => string, goal?: { value: number; label: string }): number {
  out.push(text(20, top + 14, title, INK, 16, 'start', true));
  const y0 = top + 34;
  const h = bars.length * (BAR + 8) + 8;
  const span = W - LEFT - RIGHT;
  const x = (v: number): number => LEFT + (span * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push(rect(x(d), y0, 1, h, GRID));
    out.push(text(x(d), y0 + h + 16, unit(d), MUTED, 11, 'middle'));
  }
  bars.forEach((b, i) => {
    const y = y0 + 8 + i * (BAR + 8);
    out.push(text(LEFT - 10, y + 12, b.label, INK, 12, 'end'));
    out.push(rect(LEFT, y, x(b.value) - LEFT, BAR, b.colour));
    out.push(text(x(b.value) + 6, y + 12, b.text, INK, 12));
  });
  if (goal) {
    out.push(rect(x(goal.value), y0 - 4, 2, h + 4, GOAL));
    out.push(text(x(goal.value) + 5, y0 - 8, goal.label, GOAL, 11));
  }
  out.push(rect(LEFT, y0, 1, h, INK));
  return y0 + h + 30;
}

const k = (v: number): string => (v >= 1e6 ? `${+(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}K` : `${v}`);

function logs(r: BenchResult): ['embedded' | 'kafka', LabelledLogFigures][] {
  const out: ['embedded' | 'kafka', LabelledLogFigures][] = [];
  if (r.embedded) out.push(['embedded', r.embedded]);
  if (r.kafka) out.push(['kafka', r.kafka]);
  return out;
}

/** Draws the chart of a bench result as an SVG document. */
export function drawChart(r: BenchResult): string {
  const throughput: Bar[] = [];
  const latency: Bar[] = [];
  for (const [label, f] of logs(r)) {
    for (const s of f.source) {
      const tx = s.per_tx === 1 ? '1-row tx' : s.per_tx === 1000 ? '1000-row tx' : 'one tx';
      throughput.push(
        { label: `${label} source, ${tx}`, value: s.source_rows_per_s, colour: CDC[label], text: `${k(s.source_rows_per_s)}  ${(s.source_rows_per_s / s.recvlogical_rows_per_s).toFixed(2)}×` },
        { label: `pg_recvlogical, ${tx}`, value: s.recvlogical_rows_per_s, colour: BASELINE, text: k(s.recvlogical_rows_per_s) },
      );
    }
    throughput.push(
      { label: `${label} bootstrap`, value: f.bootstrap_rows_per_s, colour: CDC[label], text: `${k(f.bootstrap_rows_per_s)}  ${(f.bootstrap_rows_per_s / f.sqlite_upsert_rows_per_s).toFixed(2)}×` },
      { label: 'raw sqlite upsert', value: f.sqlite_upsert_rows_per_s, colour: BASELINE, text: k(f.sqlite_upsert_rows_per_s) },
    );
    latency.push(
      { label: `${label} p50`, value: f.e2e_p50_ms, colour: CDC[label], text: `${f.e2e_p50_ms} ms` },
      { label: `${label} p99`, value: f.e2e_p99_ms, colour: CDC[label], text: `${f.e2e_p99_ms} ms` },
      { label: `${label} max`, value: f.e2e_max_ms, colour: CDC[label], text: `${f.e2e_max_ms} ms` },
    );
  }
  const height = 130 + throughput.length * (BAR + 8) + latency.length * (BAR + 8) + 110;
  const run = r.quick ? 'quick run' : r.rows >= 1_000_000 ? 'full run' : 'scaled-down run';
  const out: string[] = [rect(0, 0, W, height, '#ffffff')];
  out.push(text(20, 30, `cdc bench - ${run}, ${k(r.rows)} rows per workload, ${r.machine.cpus} CPUs`, INK, 16, 'start', true));
  out.push(text(20, 50, 'Colour: cdc (green embedded log, blue Kafka).  Grey: same-run baseline.  Log scales.', MUTED, 11));
  let y = panel(out, 64, 'Throughput, rows/s', throughput, 1e3, 1e7, k);
  y = panel(out, y, `End-to-end latency at ${r.e2e_offered_rows_per_s} rows/s for ${r.e2e_seconds} s, ms`, latency, 1, 1e4, (v) => `${v}`, { value: 20, label: 'goal p99 20 ms' });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    ...out.map((e) => `  ${e}`),
    '</svg>',
    '',
  ].join('\n');
}
