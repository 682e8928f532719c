import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
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
 * target, so a crash never leaves a half-written file under the final name. On any error, call `abort`.
 */
export function openAtomicWriter(path: string): AtomicWriter {
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
