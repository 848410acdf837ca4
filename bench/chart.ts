/**
 * The chart docs/benchmarks.md shows, drawn from the bench's JSON: throughput of each log next to
 * its same-run baseline, and end-to-end latency, both on log scales (the figures span three orders
 * of magnitude, and a ratio reads as a constant distance on a log axis).
 */
import { Canvas, type Rgb } from './canvas.js';
import { encodePng } from './png.js';
import type { BenchResult, LabelledLogFigures } from './report.js';

const W = 1000;
const INK: Rgb = [30, 30, 30];
const GRID: Rgb = [225, 225, 225];
const MUTED: Rgb = [110, 110, 110];
const CDC: Record<'embedded' | 'kafka', Rgb> = { embedded: [46, 125, 50], kafka: [21, 101, 192] };
const BASELINE: Rgb = [158, 158, 158];
const GOAL: Rgb = [198, 40, 40];
const LEFT = 300;
const RIGHT = 110;
const BAR = 16;

interface Bar {
  label: string;
  value: number;
  colour: Rgb;
  text: string;
}

/** Horizontal bars on a log axis from `lo` to `hi`; returns the y below the panel. */
function panel(c: Canvas, top: number, title: string, bars: Bar[], lo: number, hi: number, unit: (v: number) => string, goal?: { value: number; label: string }): number {
  c.text(20, top, title, INK, 2);
  const y0 = top + 34;
  const h = bars.length * (BAR + 8) + 8;
  const span = W - LEFT - RIGHT;
  const x = (v: number): number => LEFT + (span * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    c.rect(x(d), y0, 1, h, GRID);
    c.text(x(d) - Canvas.textWidth(unit(d), 1) / 2, y0 + h + 6, unit(d), MUTED, 1);
  }
  bars.forEach((b, i) => {
    const y = y0 + 8 + i * (BAR + 8);
    c.text(LEFT - 10 - Canvas.textWidth(b.label, 1.5), y + 3, b.label, INK, 1.5);
    c.rect(LEFT, y, x(b.value) - LEFT, BAR, b.colour);
    c.text(x(b.value) + 6, y + 3, b.text, INK, 1.5);
  });
  if (goal) {
    c.rect(x(goal.value), y0 - 4, 2, h + 4, GOAL);
    c.text(x(goal.value) + 5, y0 - 12, goal.label, GOAL, 1);
  }
  c.rect(LEFT, y0, 1, h, INK);
  return y0 + h + 30;
}

const k = (v: number): string => (v >= 1e6 ? `${+(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}K` : `${v}`);

function logs(r: BenchResult): ['embedded' | 'kafka', LabelledLogFigures][] {
  const out: ['embedded' | 'kafka', LabelledLogFigures][] = [];
  if (r.embedded) out.push(['embedded', r.embedded]);
  if (r.kafka) out.push(['kafka', r.kafka]);
  return out;
}

/** Draws the chart of a bench result as a PNG. */
export function drawChart(r: BenchResult): Buffer {
  const throughput: Bar[] = [];
  const latency: Bar[] = [];
  for (const [label, f] of logs(r)) {
    for (const s of f.source) {
      const tx = s.per_tx === 1 ? '1-ROW TX' : s.per_tx === 1000 ? '1000-ROW TX' : 'ONE TX';
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
      { label: `${label} p50`, value: f.e2e_p50_ms, colour: CDC[label], text: `${f.e2e_p50_ms} MS` },
      { label: `${label} p99`, value: f.e2e_p99_ms, colour: CDC[label], text: `${f.e2e_p99_ms} MS` },
      { label: `${label} max`, value: f.e2e_max_ms, colour: CDC[label], text: `${f.e2e_max_ms} MS` },
    );
  }
  const height = 130 + throughput.length * (BAR + 8) + latency.length * (BAR + 8) + 110;
  const c = new Canvas(W, height);
  const run = r.quick ? 'QUICK RUN' : r.rows >= 1_000_000 ? 'FULL RUN' : 'SCALED-DOWN RUN';
  c.text(20, 16, `CDC BENCH - ${run}, ${k(r.rows)} ROWS PER WORKLOAD, ${r.machine.cpus} CPUS`, INK, 2);
  c.text(20, 40, 'COLOUR: CDC (GREEN EMBEDDED LOG, BLUE KAFKA).  GREY: SAME-RUN BASELINE.  LOG SCALES.', MUTED, 1);
  let y = panel(c, 64, 'THROUGHPUT, ROWS/S', throughput, 1e3, 1e7, k);
  y = panel(c, y, `END TO END LATENCY AT ${r.e2e_offered_rows_per_s} ROWS/S FOR ${r.e2e_seconds} S, MS`, latency, 1, 1e4, (v) => `${v}`, { value: 50, label: 'GOAL P99 50 MS' });
  return encodePng(c);
}
