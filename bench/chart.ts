import type { BenchResult } from './report.js';
/** Placeholder until the chart is drawn. */
export function drawChart(_r: BenchResult): Buffer {
  return Buffer.alloc(0);
}
