// An exclusive lock file on a data directory, so that a second process refuses to open embedded data in use.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export interface DirLock {
  release(): void;
}

export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDirLock(lockPath: string): DirLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(lockPath);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
      if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
        throw new DataDirInUseError(
          `the embedded database at ${lockPath.replace(/\.lock$/, '')} is in use by process ${holder}; stop it, use another DATA_DIR, or set DATABASE_URL to share a PostgreSQL server`,
        );
      }
      if (holder === process.pid) {
        throw new DataDirInUseError(`the embedded database at ${lockPath.replace(/\.lock$/, '')} is already open in this process`);
      }
      // A stale lock left by a process that died: take it over.
      unlinkSync(lockPath);
    }
  }
  throw new DataDirInUseError(`could not lock ${lockPath}`);
}
