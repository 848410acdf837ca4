/**
 * Preloaded into a `cdc` process (`NODE_OPTIONS=--require …/slow-open.cjs`): a slow disk. Every
 * open of an embedded-log segment (`*.seg`) waits CDC_SLOW_OPEN_MS first, so that another process
 * (the cleaner of `cdc start`) has time to change the directory between a reader's listing and
 * its open — the race of issue 17 item 11a, made frequent instead of rare.
 *
 * JavaScript, not TypeScript: node loads it before anything is compiled. See fs-trace.cjs for why
 * syncBuiltinESMExports() is needed.
 */
'use strict';
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');

const ms = Number(process.env.CDC_SLOW_OPEN_MS ?? '0');
if (ms > 0) {
  const open = fs.promises.open;
  fs.promises.open = async function (p, flags, mode) {
    if (typeof p === 'string' && p.endsWith('.seg') && (flags === undefined || flags === 'r')) await new Promise((r) => setTimeout(r, ms));
    return open.call(this, p, flags, mode);
  };
  syncBuiltinESMExports();
}
