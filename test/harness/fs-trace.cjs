/**
 * Preloaded into a `cdc` process (`NODE_OPTIONS=--require …/fs-trace.cjs`) to record, in order, the
 * file-system operations that decide what survives a power loss: directory entries made (mkdir, a
 * file created by open, a rename's target) and fsyncs (of files and of directories). Tests replay
 * the trace against a power-loss model (test/integration/support/power-loss.ts).
 *
 * JavaScript, not TypeScript: node loads it before anything is compiled. Only paths under
 * CDC_FS_TRACE_ROOT are recorded, one JSON line per operation, appended to CDC_FS_TRACE
 * synchronously (the line is on disk before the operation's caller goes on).
 *
 * The embedded log imports `node:fs/promises` as an ES module; patching the CommonJS object and
 * calling syncBuiltinESMExports() makes its named imports see the patched functions.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { syncBuiltinESMExports } = require('node:module');

const out = process.env.CDC_FS_TRACE;
const root = process.env.CDC_FS_TRACE_ROOT;
if (out && root) install(out, path.resolve(root));

function install(out, root) {
  const appendFileSync = fs.appendFileSync;
  const under = (p) => typeof p === 'string' && (path.resolve(p) + '/').startsWith(root + '/');
  const record = (op, p) => {
    if (under(p)) appendFileSync(out, JSON.stringify({ op, path: path.resolve(p) }) + '\n');
  };
  const promises = fs.promises;
  const handlePaths = new WeakMap();
  let patchedHandles = false;

  const mkdir = promises.mkdir;
  promises.mkdir = async function (p, options) {
    // A recursive mkdir creates every missing ancestor: find them before it runs.
    const made = [];
    if (typeof p === 'string') {
      for (let d = path.resolve(p); !fs.existsSync(d); d = path.dirname(d)) made.unshift(d);
    }
    const r = await mkdir.call(this, p, options);
    for (const d of made) record('create', d);
    return r;
  };

  const open = promises.open;
  promises.open = async function (p, flags, mode) {
    const existed = typeof p === 'string' && fs.existsSync(p);
    const fh = await open.call(this, p, flags, mode);
    if (!existed && typeof p === 'string' && fs.existsSync(p)) record('create', p);
    if (typeof p === 'string') handlePaths.set(fh, path.resolve(p));
    if (!patchedHandles) {
      patchedHandles = true;
      const proto = Object.getPrototypeOf(fh);
      for (const name of ['sync', 'datasync']) {
        const original = proto[name];
        proto[name] = async function () {
          const r = await original.call(this);
          const at = handlePaths.get(this);
          if (at) record('fsync', at);
          return r;
        };
      }
    }
    return fh;
  };

  const rename = promises.rename;
  promises.rename = async function (from, to) {
    const r = await rename.call(this, from, to);
    record('create', to);
    return r;
  };

  syncBuiltinESMExports();
}
