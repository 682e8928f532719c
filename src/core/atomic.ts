import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A file being written under a temp name beside its target; nothing appears under the target until `commit`. */
export interface AtomicWriter {
  /** Appends `data` (a string as UTF-8, or the first `length` bytes of a buffer, default all of it); returns the bytes written. */
  write(data: string | Uint8Array, length?: number): number;
  /** Flushes the temp file to disk and renames it over the target. */
  commit(): void;
  /** Closes and deletes the temp file, leaving the target as it was; safe to call after a failed commit. */
  abort(): void;
}

/**
 * Opens a streaming atomic write of `path`: the bytes go to a temp file beside the target (same
 * folder, so the rename cannot cross file systems) and `commit` flushes and renames it over the
 * target, so a crash never leaves a half-written file under the final name; temp files a killed
 * writer of the same target left behind are removed. On any error, call `abort`.
 */
export function openAtomicWriter(path: string): AtomicWriter {
  // temp files of an earlier writer of this target that was killed mid-write
  removeStaleTemps(dirname(path), (target) => target === basename(path));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  let open = true;
  const close = (): void => {
    if (open) {
      open = false;
      closeSync(fd);
    }
  };
  return {
    write(data, length) {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      const n = length ?? buf.length;
      let off = 0;
      while (off < n) off += writeSync(fd, buf, off, n - off);
      return n;
    },
    commit() {
      fsyncSync(fd);
      close();
      renameSync(tmp, path);
      syncFolder(dirname(path));
    },
    abort() {
      try {
        close();
      } catch {
        // the descriptor is gone already; deleting the temp file is what matters
      }
      rmSync(tmp, { force: true });
    },
  };
}

// The rename is durable only once the folder's entry is on disk; some systems cannot sync a folder.
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort: the data itself was synced before the rename
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes a file atomically: the bytes go to a temp file beside the target, are flushed, then renamed
 * over it, so a crash never leaves a half-written file under the final name.
 */
export function writeFileAtomic(path: string, ...chunks: (string | Uint8Array)[]): void {
  const out = openAtomicWriter(path);
  try {
    for (const chunk of chunks) out.write(chunk);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}

/** Whether a process with this id is running (one we may not signal counts as running). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files that writers of `dir` killed mid-write left behind (`.<target>.<pid>.<ms>.tmp`
 * whose process is gone), for targets `owns` accepts; a live writer's temp files are left alone.
 * Returns the names removed.
 */
export function removeStaleTemps(dir: string, owns: (target: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/.exec(name);
    if (!m || !owns(m[1]!)) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && processAlive(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
