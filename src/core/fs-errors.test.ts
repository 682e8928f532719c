import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { describeFsError, openForReading } from './fs-errors.js';

const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

test('describeFsError says what to do for the usual codes and keeps the system text for the rest', () => {
  assert.equal(describeFsError(errno('EACCES', "EACCES: permission denied, open 'x'")), "permission denied; check the file's permissions (or run as its owner)");
  assert.equal(describeFsError(errno('ENOENT', 'ENOENT: no such file or directory')), 'no such file');
  assert.equal(describeFsError(errno('EISDIR', 'EISDIR: illegal operation on a directory, read')), 'is a folder, not a file');
  assert.equal(describeFsError(errno('EIO', 'EIO: i/o error, read')), 'EIO: i/o error, read');
});

test('openForReading names the file in one line', () => {
  const path = join(tmpdir(), 'collab-no-such-file-here.csv');
  assert.throws(() => openForReading(path), { code: 'NOT_FOUND', message: `${path}: cannot read: no such file` });
});
