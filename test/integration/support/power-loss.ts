/**
 * What a power loss would leave of a file tree, from a trace of the operations that made it
 * (test/harness/fs-trace.cjs). The model is the one POSIX promises and ext4/xfs keep to, taken
 * strictly: a directory entry (a created file or directory, a rename's target) survives only if its
 * parent directory was fsync'd after it was made; a file's contents survive only if the file was
 * fsync'd after it was created. Page-cache luck (most entries do survive in practice) is not counted.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FsOp {
  op: 'create' | 'fsync';
  path: string;
}

export function readTrace(file: string): FsOp[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as FsOp);
}

/** Why each of `paths` (made during the trace) might be gone after a power loss at its end; empty when all survive. */
export function lostOnPowerLoss(trace: readonly FsOp[], paths: readonly string[], files: readonly string[] = []): string[] {
  const lastCreate = (p: string): number => {
    for (let i = trace.length - 1; i >= 0; i--) if (trace[i]?.op === 'create' && trace[i]?.path === p) return i;
    return -1;
  };
  const syncedAfter = (p: string, i: number): boolean => trace.some((o, j) => j > i && o.op === 'fsync' && o.path === p);
  const lost: string[] = [];
  for (const p of paths) {
    const made = lastCreate(p);
    if (made < 0) lost.push(`${p}: not made during the trace (the test expected cdc to make it)`);
    else if (!syncedAfter(dirname(p), made)) lost.push(`${p}: its directory entry (never fsync'd in ${dirname(p)} after it was made)`);
  }
  for (const f of files) {
    const made = lastCreate(f);
    if (made >= 0 && !syncedAfter(f, made)) lost.push(`${f}: its contents (the file never fsync'd after it was made)`);
  }
  return lost;
}
