import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollabError } from '../core/errors.js';
import { IdMap } from './id-map.js';
import { parseDelimitedText, readRatingsFile, type ReadOptions, type ReadResult } from './read-delimited.js';

const dir = mkdtempSync(join(tmpdir(), 'collab-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** Writes a fixture file (string as UTF-8, or raw bytes) and returns its path. */
function fixture(content: string | Buffer, name = `f${counter++}.txt`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Rows as [rawUser, rawItem, rating, timestamp?] tuples, for easy comparison. */
function rows(d: ReadResult): (string | number)[][] {
  const r = d.ratings;
  const out: (string | number)[][] = [];
  for (let k = 0; k < r.ratings.length; k++) {
    const row: (string | number)[] = [r.userIds.idOf(r.users[k]!), r.itemIds.idOf(r.items[k]!), r.ratings[k]!];
    if (r.timestamps) row.push(r.timestamps[k]!);
    out.push(row);
  }
  return out;
}

/** Asserts that `fn` throws a CollabError with this code and exact message. */
function throwsExactly(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CollabError, `expected CollabError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

const EXPECTED = [
  [1, 10, 4, 100],
  [1, 20, 3.5, 101],
  [2, 10, 5, 102],
];

describe('layouts', () => {
  test('CSV with a header: columns, dense ids in order of appearance, timestamps', () => {
    const d = readRatingsFile(fixture('userId,movieId,rating,timestamp\n1,10,4.0,100\n1,20,3.5,101\n2,10,5,102\n'));
    assert.deepEqual(rows(d), EXPECTED);
    assert.deepEqual(Array.from(d.ratings.users), [0, 0, 1]);
    assert.deepEqual(Array.from(d.ratings.items), [0, 1, 0]);
    assert.equal(d.layout.header, true);
    assert.equal(d.layout.delimiter, ',');
    assert.deepEqual(d.report, { badRows: 0, badRowExamples: [], duplicates: 0 });
  });

  test('CRLF line endings give the same rows (with and without a final newline)', () => {
    assert.deepEqual(rows(readRatingsFile(fixture('userId,movieId,rating,timestamp\r\n1,10,4.0,100\r\n1,20,3.5,101\r\n2,10,5,102\r\n'))), EXPECTED);
    assert.deepEqual(rows(readRatingsFile(fixture('userId,movieId,rating,timestamp\r\n1,10,4.0,100\r\n1,20,3.5,101\r\n2,10,5,102'))), EXPECTED);
  });

  const delimiters: [string, string][] = [
    ['tab', '1\t10\t4\t100\n1\t20\t3.5\t101\n2\t10\t5\t102\n'],
    ['::', '1::10::4::100\n1::20::3.5::101\n2::10::5::102\n'],
    [';', '1;10;4;100\n1;20;3.5;101\n2;10;5;102\n'],
    ['|', '1|10|4|100\n1|20|3.5|101\n2|10|5|102\n'],
    ['whitespace', '  1  10 4\t100 \n1 20   3.5 101\r\n2 10 5 102'],
  ];
  for (const [name, text] of delimiters) {
    test(`${name}-separated file without a header is detected`, () => {
      const d = readRatingsFile(fixture(text));
      assert.equal(d.layout.header, false);
      assert.deepEqual(rows(d), EXPECTED);
    });
  }

  test('a header is detected by its non-numeric rating field, with any delimiter', () => {
    const d = readRatingsFile(fixture('user\titem\trating\n1\t10\t4\n'));
    assert.equal(d.layout.header, true);
    assert.deepEqual(rows(d), [[1, 10, 4]]);
    assert.equal(d.ratings.timestamps, undefined);
  });

  test('columns by header name in any order, or by index, and timestamps can be turned off', () => {
    const text = 'ts,rating,item_id,UserID\n100,4,10,1\n101,3.5,20,1\n';
    assert.deepEqual(rows(readRatingsFile(fixture(text))), [[1, 10, 4, 100], [1, 20, 3.5, 101]]);
    const byIndex = readRatingsFile(fixture('5,1,x,10\n'), { userColumn: 1, itemColumn: 3, ratingColumn: 0, timestampColumn: null });
    assert.deepEqual(rows(byIndex), [[1, 10, 5]]);
    const named = readRatingsFile(fixture('a,b,stars,c\n7,8,2,9\n'), { userColumn: 'b', itemColumn: 'c', ratingColumn: 'stars', timestampColumn: null });
    assert.deepEqual(rows(named), [[8, 9, 2]]);
  });

  test('an unknown column name or index is an INVALID_OPTION naming the flag', () => {
    const path = fixture('userId,movieId,rating\n1,2,3\n');
    throwsExactly(
      () => readRatingsFile(path, { ratingColumn: 'score' }),
      'INVALID_OPTION',
      `${path}: rating column "score" is not in the header (columns: userId, movieId, rating); fix --rating-col`,
    );
    throwsExactly(
      () => readRatingsFile(path, { userColumn: 5 }),
      'INVALID_OPTION',
      `${path}: user column 5 is out of range: the file has 3 columns (0 to 2); fix --user-col`,
    );
  });

  test('quoted fields, string ids, a UTF-8 BOM and blank lines', () => {
    const text = '\ufeffuser,item,rating\n"u1","The ""Big"" One, 2",4.5\n\n  \nu2,42,"3"\n';
    const d = readRatingsFile(fixture(text));
    assert.deepEqual(rows(d), [['u1', 'The "Big" One, 2', 4.5], ['u2', 42, 3]]);
  });

  test('Latin-1 ids are read with encoding latin1; as UTF-8 they are an encoding error naming the line', () => {
    const bytes = Buffer.concat([Buffer.from('user,item,rating\n1,a,4\n'), Buffer.from('2,Mis\xe9rables,5\n', 'latin1')]);
    const path = fixture(bytes);
    assert.deepEqual(rows(readRatingsFile(path, { encoding: 'latin1' })), [[1, 'a', 4], [2, 'Misérables', 5]]);
    throwsExactly(
      () => readRatingsFile(path),
      'BAD_FILE',
      `${path}:3: is not valid UTF-8; the file may be Latin-1: convert it to UTF-8 or pass --encoding latin1`,
    );
  });

  test('UTF-16 files and NUL bytes are refused as the wrong encoding', () => {
    const utf16 = fixture(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('1,2,3\n', 'utf16le')]));
    throwsExactly(
      () => readRatingsFile(utf16),
      'BAD_FILE',
      `${utf16}:1: starts with a UTF-16 byte-order mark; collab reads UTF-8 or Latin-1 text: re-save the file as UTF-8`,
    );
    const nul = fixture(Buffer.from('1,2,3\n4,5\u0000,6\n'));
    throwsExactly(
      () => readRatingsFile(nul),
      'BAD_FILE',
      `${nul}:2: holds a NUL byte: the file looks binary or UTF-16, not a text ratings file; re-save it as UTF-8 text`,
    );
  });

  test('tiny read buffers (lines cut at every position) give the same result as one big buffer', () => {
    let text = 'userId,movieId,rating,timestamp\r\n';
    for (let k = 0; k < 500; k++) text += `${(k * 7) % 53},"${(k * 13) % 97}",${(k % 10) / 2 + 0.5},${1_000_000 + k}\r\n`;
    const path = fixture(text);
    const big = rows(readRatingsFile(path));
    assert.equal(big.length > 400, true);
    for (const bufferBytes of [64, 65, 97, 1000]) assert.deepEqual(rows(readRatingsFile(path, { bufferBytes })), big, `bufferBytes ${bufferBytes}`);
    const dat = fixture(text.replace(/,/g, '::').replace(/"/g, '').replace(/\r/g, ''));
    assert.deepEqual(rows(readRatingsFile(dat, { bufferBytes: 64 })), big);
  });

  test('columns grow when the first lines made the row estimate too small', () => {
    let text = '';
    for (let k = 0; k < 5; k++) text += `000000000${k},0000000001,4,00000000000000${k}\n`;
    for (let k = 0; k < 3000; k++) text += `${k % 9},${k + 10},1,${k}\n`;
    const d = readRatingsFile(fixture(text), { bufferBytes: 256 });
    assert.equal(d.ratings.ratings.length, 3005);
    assert.equal(d.ratings.itemIds.idOf(d.ratings.items[3004]!), 3009);
    assert.equal(d.report.duplicates, 0);
  });

  test('a line longer than the read buffer is read whole', () => {
    const long = 'x'.repeat(300);
    const d = readRatingsFile(fixture(`user,item,rating,comment\n1,2,3,${long}\n4,5,1,${long}\n`), { bufferBytes: 64 });
    assert.deepEqual(rows(d).map((r) => r.slice(0, 3)), [[1, 2, 3], [4, 5, 1]]);
  });

  test('existing id maps are extended, so a validation file shares the training indices', () => {
    const userIds = new IdMap();
    const itemIds = new IdMap();
    readRatingsFile(fixture('1,10,4\n2,20,3\n'), { userIds, itemIds });
    const valid = readRatingsFile(fixture('2,10,5\n3,30,1\n'), { userIds, itemIds });
    assert.deepEqual(Array.from(valid.ratings.users), [1, 2]);
    assert.deepEqual(Array.from(valid.ratings.items), [0, 2]);
  });
});

describe('bad input', () => {
  const header = 'userId,movieId,rating,timestamp\n';
  const good = '1,1,4,100\n1,2,3,100\n2,1,5,100\n2,3,1,100\n3,1,2,100\n';
  const hint = 'fix the row or use --skip-bad-rows to skip such rows';
  const cases: [string, string, string][] = [
    ['a non-numeric rating', '3,2,abc,100', 'rating "abc" is not a finite number'],
    ['a NaN rating', '3,2,NaN,100', 'rating "NaN" is not a finite number'],
    ['an Infinity rating', '3,2,Infinity,100', 'rating "Infinity" is not a finite number'],
    ['an empty rating', '3,2,,100', 'empty rating'],
    ['an empty user id', ',2,4,100', 'empty user id'],
    ['an empty item id', '3, ,4,100', 'empty item id'],
    ['a missing field', '3,2,4', 'expected 4 fields separated by ",", found 3'],
    ['an extra field', '3,2,4,100,9', 'expected 4 fields separated by ",", found 5'],
    ['a rating beyond float32 (1e39)', '3,2,1e39,100', 'rating 1e39 is too large: ratings are read from 0 to 1000000 (declare another range with --scale lo,hi)'],
    ['a rating of 1e308', '3,2,1e308,100', 'rating 1e308 is too large: ratings are read from 0 to 1000000 (declare another range with --scale lo,hi)'],
    ['an absurdly large rating', '3,2,10000000,100', 'rating 10000000 is too large: ratings are read from 0 to 1000000 (declare another range with --scale lo,hi)'],
    ['a negative rating', '3,2,-1,100', 'rating -1 is negative: ratings are read from 0 to 1000000 (declare another range with --scale lo,hi)'],
    ['a bad timestamp', '3,2,4,yesterday', 'timestamp "yesterday" is not a number of seconds or an ISO date (pass --time-col none if column 3 is not a time)'],
  ];
  for (const [what, line, problem] of cases) {
    test(`${what} on line 7 is a BAD_ROW naming line 7`, () => {
      const path = fixture(header + good + line + '\n4,4,4,100\n');
      throwsExactly(() => readRatingsFile(path), 'BAD_ROW', `${path}:7: ${problem}; ${hint}`);
    });
  }

  test('a bad first row is reported as bad, not taken for a header', () => {
    const nan = fixture('1,2,NaN,100\n1,3,4,100\n');
    throwsExactly(() => readRatingsFile(nan), 'BAD_ROW', `${nan}:1: rating "NaN" is not a finite number; ${hint}`);
    const empty = fixture('1,2,,100\n1,3,4,100\n');
    throwsExactly(() => readRatingsFile(empty), 'BAD_ROW', `${empty}:1: empty rating; ${hint}`);
  });

  test('a rating outside the declared scale is a bad row; inside it is fine', () => {
    const path = fixture(header + good + '3,2,6,100\n');
    throwsExactly(() => readRatingsFile(path, { scale: [0.5, 5] }), 'BAD_ROW', `${path}:7: rating 6 is outside the declared scale 0.5 to 5; ${hint}`);
    assert.equal(readRatingsFile(path, { scale: [0, 10] }).ratings.ratings.length, 6);
    assert.equal(readRatingsFile(path).ratings.ratings.length, 6);
  });

  test('a line longer than 1 MiB is refused at its line number, not read into one huge string', () => {
    const tail = fixture(header + good + '7,'.padEnd(5 << 20, '9'));
    const message = 'is longer than 1048576 bytes without a line break; this is not a ratings file (or its line breaks were lost)';
    throwsExactly(() => readRatingsFile(tail), 'BAD_FILE', `${tail}:7: ${message}`);
    throwsExactly(() => readRatingsFile(tail, { bufferBytes: 4096 }), 'BAD_FILE', `${tail}:7: ${message}`);
    const first = fixture('1'.repeat(3 << 20));
    throwsExactly(() => readRatingsFile(first), 'BAD_FILE', `${first}:1: ${message}`);
  });

  test('a declared scale may hold negative ratings, but never one float32 cannot hold', () => {
    const path = fixture(header + good + '3,2,-10,100\n');
    assert.equal(readRatingsFile(path, { scale: [-10, 10] }).ratings.ratings[5], -10);
    const huge = fixture(header + good + '3,2,1e39,100\n');
    throwsExactly(() => readRatingsFile(huge, { scale: [0, 1e300] }), 'BAD_ROW', `${huge}:7: rating 1e+39 is outside the declared scale 0 to 1e+300; ${hint}`);
  });

  test('out-of-range ratings are skipped and counted under skipBadRows', () => {
    const path = fixture(header + good + '3,2,1e39,100\n3,3,-0.5,100\n');
    const r = readRatingsFile(path, { skipBadRows: true });
    assert.equal(r.ratings.ratings.length, 5);
    assert.equal(r.report.badRows, 2);
    assert.ok(Array.from(r.ratings.ratings).every(Number.isFinite));
  });

  test('line numbers count blank lines and the header', () => {
    const path = fixture('userId,movieId,rating\n1,1,4\n\n1,2,4\r\n\r\n2,1,4\nbad,2,x\n');
    throwsExactly(() => readRatingsFile(path), 'BAD_ROW', `${path}:7: rating "x" is not a finite number; ${hint}`);
  });

  test('skipBadRows counts bad rows, keeps examples and reads the rest', () => {
    const path = fixture(header + '1,1,4,100\n1,2,x,100\n,3,4,100\n2,1,5\n2,2,3,100\n');
    const d = readRatingsFile(path, { skipBadRows: true });
    assert.deepEqual(rows(d), [[1, 1, 4, 100], [2, 2, 3, 100]]);
    assert.equal(d.report.badRows, 3);
    assert.deepEqual(d.report.badRowExamples, [
      `${path}:3: rating "x" is not a finite number`,
      `${path}:4: empty user id`,
      `${path}:5: expected 4 fields separated by ",", found 3`,
    ]);
    // A skipped row's ids are never added: user 2 is the second user, item 3 does not exist.
    assert.equal(d.ratings.userIds.size, 2);
    assert.equal(d.ratings.itemIds.has(3), false);
  });

  test('empty, blank-only, header-only, all-bad and missing files', () => {
    const empty = fixture('');
    throwsExactly(() => readRatingsFile(empty), 'BAD_FILE', `${empty}: is empty: it holds no ratings; check the path or the download`);
    const blank = fixture('\n  \r\n\n');
    throwsExactly(() => readRatingsFile(blank), 'BAD_FILE', `${blank}: is empty: it holds only blank lines, no ratings; check the path or the download`);
    const headerOnly = fixture(header);
    throwsExactly(() => readRatingsFile(headerOnly), 'BAD_FILE', `${headerOnly}: holds no ratings: it has a header but no ratings; check the file`);
    const allBad = fixture(header + '1,1,x,1\n');
    throwsExactly(
      () => readRatingsFile(allBad, { skipBadRows: true }),
      'BAD_FILE',
      `${allBad}: holds no ratings: all 1 rows were bad (first: ${allBad}:2: rating "x" is not a finite number); check the file`,
    );
    const missing = join(dir, 'nope.csv');
    throwsExactly(() => readRatingsFile(missing), 'NOT_FOUND', `${missing}: no such file; check the path (or the dataset name and --data-dir)`);
  });

  test('a line with fewer than three fields cannot be a ratings file', () => {
    const path = fixture('1,2\n3,4\n');
    throwsExactly(
      () => readRatingsFile(path),
      'BAD_FILE',
      `${path}:1: has 2 fields separated by ","; a ratings file needs at least user, item and rating columns (pass --delimiter if it was guessed wrong)`,
    );
  });
});

describe('duplicates', () => {
  // (1,10) three times and (2,20) twice, interleaved so the file is not grouped by user.
  const text = '1,10,1,1\n2,20,2,2\n1,10,3,3\n3,10,4,4\n2,20,5,5\n1,10,5,6\n1,30,2,7\n';
  const opts = (o: ReadOptions): ReadOptions => ({ ...o });

  test('keep-last (default) keeps the latest rating of each pair, in file order, and counts the rest', () => {
    const d = readRatingsFile(fixture(text));
    assert.deepEqual(rows(d), [[3, 10, 4, 4], [2, 20, 5, 5], [1, 10, 5, 6], [1, 30, 2, 7]]);
    assert.equal(d.report.duplicates, 3);
  });

  test('keep-first keeps the earliest rating of each pair', () => {
    const d = readRatingsFile(fixture(text), opts({ duplicates: 'keep-first' }));
    assert.deepEqual(rows(d), [[1, 10, 1, 1], [2, 20, 2, 2], [3, 10, 4, 4], [1, 30, 2, 7]]);
    assert.equal(d.report.duplicates, 3);
  });

  test('error names both lines', () => {
    const path = fixture(text);
    throwsExactly(
      () => readRatingsFile(path, { duplicates: 'error' }),
      'BAD_ROW',
      `${path}:3: duplicate rating of item 10 by user 1 (first at line 1); remove one, or pass --duplicates keep-last or keep-first`,
    );
  });

  test('a file grouped by user takes the same path to the same answer', () => {
    const grouped = '1,10,1\n1,20,2\n1,10,3\n2,10,4\n2,10,5\n';
    const d = readRatingsFile(fixture(grouped));
    assert.deepEqual(rows(d), [[1, 20, 2], [1, 10, 3], [2, 10, 5]]);
    assert.equal(d.report.duplicates, 2);
  });

  test('line numbers of duplicates account for a header, blank and skipped lines', () => {
    const path = fixture('u,i,rating\n1,10,1\n\n1,x,bad\n1,10,2\n');
    throwsExactly(
      () => readRatingsFile(path, { duplicates: 'error', skipBadRows: true }),
      'BAD_ROW',
      `${path}:5: duplicate rating of item 10 by user 1 (first at line 2); remove one, or pass --duplicates keep-last or keep-first`,
    );
  });
});

describe('parseDelimitedText', () => {
  test('quoted titles with commas, doubled quotes and a quoted newline keep their line numbers', () => {
    const text = 'movieId,title,genres\r\n1,"Toy Story, The (1995)",Animation|Comedy\r\n2,"Say ""Hi"" (2001)",Drama\r\n3,"Two\nLines (1990)",(no genres listed)\r\n4,Plain (1999),Action\r\n';
    const rowsOut = parseDelimitedText(text, ',');
    assert.deepEqual(rowsOut, [
      { line: 1, fields: ['movieId', 'title', 'genres'] },
      { line: 2, fields: ['1', 'Toy Story, The (1995)', 'Animation|Comedy'] },
      { line: 3, fields: ['2', 'Say "Hi" (2001)', 'Drama'] },
      { line: 4, fields: ['3', 'Two\nLines (1990)', '(no genres listed)'] },
      { line: 6, fields: ['4', 'Plain (1999)', 'Action'] },
    ]);
  });

  test('`|` and `::` files are split plainly, quotes and all', () => {
    assert.deepEqual(parseDelimitedText('1|"Quoted" Title|x\n', '|'), [{ line: 1, fields: ['1', '"Quoted" Title', 'x'] }]);
    assert.deepEqual(parseDelimitedText('1::A: B (1990)::Drama\n', '::'), [{ line: 1, fields: ['1', 'A: B (1990)', 'Drama'] }]);
  });
});

describe('randomized layouts against the rows that were written', () => {
  const delims = [',', '\t', '::', ';', '|', ' '] as const;
  for (let seed = 1; seed <= 12; seed++) {
    test(`seed ${seed}: random delimiter, quoting, CRLF, blank lines and buffer size`, async () => {
      const { RandomState } = await import('../core/random.js');
      const rng = new RandomState(seed);
      const d = delims[seed % delims.length]!;
      const quoting = d !== '::' && d !== ' ';
      const expected: number[][] = [];
      let text = rng.random() < 0.5 ? ['userId', 'movieId', 'rating', 'timestamp'].join(d === ' ' ? '  ' : d) + '\n' : '';
      const seen = new Set<string>();
      for (let k = 0; k < 300; k++) {
        const u = rng.interval(40);
        const i = rng.interval(500) + 1;
        if (seen.has(`${u},${i}`)) continue;
        seen.add(`${u},${i}`);
        const r = (rng.interval(9) + 1) / 2;
        const t = 800000000 + rng.interval(100000000);
        const field = (v: number, text = String(v)): string => (quoting && rng.random() < 0.2 ? `"${text}"` : text);
        const sep = d === ' ' ? ' '.repeat(1 + rng.interval(2)) : d;
        text += [field(u), field(i), field(r, rng.random() < 0.5 ? r.toFixed(1) : String(r)), field(t)].join(sep);
        text += rng.random() < 0.3 ? '\r\n' : '\n';
        if (rng.random() < 0.05) text += '\n';
        expected.push([u, i, r, t]);
      }
      const path = fixture(text);
      const bufferBytes = 64 + rng.interval(200);
      const got = rows(readRatingsFile(path, { bufferBytes }));
      assert.deepEqual(got, expected);
    });
  }
});
