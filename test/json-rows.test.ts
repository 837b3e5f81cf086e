// A chunk's rows as one UTF-8 JSON array (src/golden/json-rows.ts), read by PostgreSQL on both drivers as it was written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonArrayBytes, jsonArrayParam, jsonRow } from '../src/golden/json-rows.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';

describe('jsonArrayBytes', () => {
  it('joins rows into one JSON array, whatever their scripts', () => {
    const rows = [{ a: 'عبد القادر' }, { a: 'Fès', n: 1 }, { a: '"quoted", \\ and \u2028' }];
    expect(JSON.parse(jsonArrayBytes(rows.map((r) => jsonRow(JSON.stringify(r)))).toString('utf8'))).toEqual(rows);
    expect(jsonArrayBytes([]).toString('utf8')).toBe('[]');
    expect(jsonArrayBytes([jsonRow('1')]).toString('utf8')).toBe('[1]');
  });
});

describe('jsonRow', () => {
  it('keeps every row its own bytes across slabs, whatever its length and script', () => {
    const texts: string[] = [];
    // 2.7 MB of rows in all: slabs (64 KB) are filled and left many times; some rows too long for a slab's share.
    for (let i = 0; i < 3000; i++) {
      const name = ['عبد القادر', 'Fès', '😀 Aït', 'x'][i % 4] as string;
      texts.push(JSON.stringify({ i, name: name.repeat(1 + (i % 97)) }));
    }
    texts.push(JSON.stringify({ long: 'ب'.repeat(60_000) }), JSON.stringify({ after: true }));
    const rows = texts.map(jsonRow);
    rows.forEach((row, i) => expect(row.toString('utf8')).toBe(texts[i]));
    expect(JSON.parse(jsonArrayBytes(rows).toString('utf8'))).toEqual(texts.map((t) => JSON.parse(t)));
  });
});

describe.each(drivers())('jsonArrayParam on %s', (driver) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb(driver);
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('reads the bytes as the jsonb of the rows, and refuses bytes that are not UTF-8', async () => {
    const rows = [{ name: 'عبد القادر', n: 1 }, { name: 'Aït Baha', n: 2 }];
    const { rows: read } = await t.db.query<{ name: string; n: number }>(
      `SELECT name, n FROM jsonb_to_recordset(${jsonArrayParam(1)}) AS u(name text, n int) ORDER BY n`,
      [jsonArrayBytes(rows.map((r) => jsonRow(JSON.stringify(r))))],
    );
    expect(read).toEqual(rows);
    await expect(t.db.query(`SELECT ${jsonArrayParam(1)} AS v`, [Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d])])).rejects.toThrow();
  });
});
