/**
 * One writer per embedded log: `cdc start` takes `<dir>/writer.lock` (its pid inside). A second
 * writer is refused while the first lives; a lock left by a process that died is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CdcError } from '../../common/index.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface WriterLock {
  release(): Promise<void>;
}

export async function lockWriter(dir: string): Promise<WriterLock> {
  const path = join(dir, 'writer.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.sync();
      await fh.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        throw new CdcError('LOG_LOCKED', `the embedded log ${dir} is being written by another process (pid ${pid})`, {
          exitCode: 2,
          hint: 'only one cdc start may write to a log directory: stop the other one, or use another --log directory',
        });
      }
      // The holder is gone: the lock is stale.
      await unlink(path).catch(() => undefined);
    }
  }
  throw new CdcError('LOG_LOCKED', `cannot take the writer lock of ${dir}`, { exitCode: 2, hint: `remove ${path} if no cdc start is running` });
}

/** The pid of the live writer of the log in `dir`, if one is running. */
export async function liveWriter(dir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(dir, 'writer.lock'), 'utf8').catch(() => '')).trim());
  return pid > 0 && alive(pid) ? pid : undefined;
}
