#!/usr/bin/env node
/**
 * The top self-time functions of a V8 .cpuprofile (node --cpu-prof), as a table:
 *   node scripts/cpuprofile-top.mjs FILE.cpuprofile [N]
 * Self time is the samples whose top frame is the function; the share is of all samples,
 * idle ("(idle)") included, so the busy share of the main thread is shown on the first line.
 */
import { readFileSync } from 'node:fs';

const [file, n = '25'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const self = new Map();
let total = 0;
for (const [id, c] of counts) {
  const f = byId.get(id).callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(dist[^/]*|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
  const name = `${f.functionName || '(anonymous)'} ${where}`.trim();
  self.set(name, (self.get(name) ?? 0) + c);
  total += c;
}
const idle = self.get('(idle)') ?? 0;
const seconds = (profile.endTime - profile.startTime) / 1e6;
console.log(`${file}: ${seconds.toFixed(1)} s, ${total} samples, busy ${(100 * (1 - idle / total)).toFixed(0)}%`);
for (const [name, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${name}`);
