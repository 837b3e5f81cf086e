// The console's name search pages by keyset (src/golden/search.ts searchGoldensAfter): walking every page from the
// cursors it gives yields exactly the records above the threshold, each once, in (similarity DESC, name, id) order —
// the order a reference query over all of them gives — with names of equal similarity and names shared by many
// records cut across pages. On both drivers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchForm, searchGoldensAfter, type SearchAfter } from '../src/golden/search.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';

/** Names near "bennani youssef" at several similarities, some shared by many records, and names far from it. */
const names = ['bennani youssef', 'bennani yousef', 'bennani youssef ahmed', 'youssef bennani', 'bennan youssef', 'benani yusuf', 'alaoui karim', 'tazi fatima'];
const copies = [9, 1, 4, 3, 2, 1, 5, 5];

describe.each(drivers())('console name search by keyset on %s', (driver) => {
  let t!: TestDb;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await openTestDb(driver);
    let n = 0;
    for (const [i, name] of names.entries()) {
      for (let c = 0; c < (copies[i] ?? 1); c++) {
        // Ids not in name order, so that the name, not the id, must be what orders two names of one similarity.
        const id = `${String((n * 7919) % 1000).padStart(3, '0')}-${n}`;
        n++;
        ids.push(id);
        await t.db.query(
          `INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, blocking_text, created_at, updated_at) VALUES ($1, 'persons', 1, 'active', '{}', '{}', $2, now(), now())`,
          [id, searchForm(name)],
        );
      }
    }
    await t.db.query(`INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, blocking_text, created_at, updated_at) VALUES ('retired-1', 'persons', 1, 'retired', '{}', '{}', $1, now(), now())`, [searchForm('bennani youssef')]);
  }, 60_000);

  afterAll(async () => {
    await t?.dispose();
  });

  it('walks every page from its cursors to exactly the reference order, each record once', async () => {
    const form = searchForm('Bennani Youssef');
    const { rows: reference } = await t.db.query<{ id: string }>(
      `SELECT id FROM ref_golden WHERE referential = 'persons' AND status = 'active' AND $1 <% blocking_text ORDER BY word_similarity($1, blocking_text) DESC, blocking_text, id`,
      [form],
    );
    expect(reference.length).toBeGreaterThan(12);
    const walked: string[] = [];
    let after: SearchAfter | undefined;
    let pages = 0;
    for (;;) {
      const rows = await searchGoldensAfter(t.db, 'persons', { form, after, limit: 4 + 1 });
      const shown = rows.slice(0, 4);
      walked.push(...shown.map((r) => r.id));
      pages++;
      const last = shown.at(-1);
      if (rows.length <= 4 || !last) break;
      after = { blockingText: last.blockingText, id: last.id };
      expect(pages).toBeLessThan(50);
    }
    expect(walked).toEqual(reference.map((r) => r.id));
    expect(new Set(walked).size).toBe(walked.length);
    expect(walked).not.toContain('retired-1');
    expect(pages).toBeGreaterThan(3);
  });

  it('finds nothing after the last record, and nothing for a name far from every other', async () => {
    const form = searchForm('Bennani Youssef');
    const all = await searchGoldensAfter(t.db, 'persons', { form, after: undefined, limit: 1000 });
    const last = all.at(-1);
    expect(last).toBeDefined();
    expect(await searchGoldensAfter(t.db, 'persons', { form, after: { blockingText: last?.blockingText ?? '', id: last?.id ?? '' }, limit: 10 })).toEqual([]);
    expect(await searchGoldensAfter(t.db, 'persons', { form: searchForm('Zzyzx Qwerty'), after: undefined, limit: 10 })).toEqual([]);
  });
});
