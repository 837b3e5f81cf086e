// The change feed on both drivers: one change and one outbox row per golden-record change, in the same transaction,
// and positions ordered and gap-free for a reader polling while many writers commit (invariant 4).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contribute } from '../src/golden/engine.ts';
import { assignChangePositions, readChanges, type Change } from '../src/golden/changes.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';

/** Keys only: a contribution with a new key creates, one with a known key updates. */
const things: ReferentialModule<{ key: string; label: string }> = {
  name: 'things-test',
  normalise(input) {
    const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    if (typeof body.key !== 'string' || typeof body.label !== 'string') return { ok: false, problems: [{ location: 'body', message: 'key and label required' }] };
    return { ok: true, attributes: { key: body.key, label: body.label }, warnings: [] };
  },
  naturalKeys: (a) => [{ type: 'key', value: a.key }],
  trust: { default: ['a', 'b'] },
};

describe.each(drivers())('change feed on %s', (driver) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb(driver);
  });
  afterEach(async () => {
    await t.dispose();
  });
  const count = async (sql: string) => (await t.db.query<{ n: number }>(sql)).rows[0]?.n ?? -1;

  it('writes each change with its outbox row, and a failed contribution leaves neither', async () => {
    const r = await contribute(t.db, things, { sourceSystem: 'a', sourceId: '1', attributes: { key: 'k1', label: 'one' } });
    await contribute(t.db, things, { sourceSystem: 'b', sourceId: '1', attributes: { key: 'k1', label: 'uno' } });
    await contribute(t.db, things, { sourceSystem: 'a', sourceId: '1', attributes: { key: 'k1', label: 'one!' } });
    const { changes } = await readChanges(t.db, { since: 0 });
    expect(changes.map((c) => [c.position, c.goldenId, c.version, c.type])).toEqual([
      [1, r.goldenId, 1, 'golden.created'],
      [2, r.goldenId, 2, 'golden.updated'],
      [3, r.goldenId, 3, 'golden.updated'],
    ]);
    // b's label is less trusted than a's: the golden record did not change, so no event.
    expect(await count(`SELECT count(*)::int AS n FROM ref_changes c JOIN outbox o ON o.id = c.outbox_id AND o.topic = 'golden.changed' AND o.payload->>'goldenId' = c.golden_id`)).toBe(3);
    expect(await count(`SELECT count(*)::int AS n FROM outbox`)).toBe(3);

    await expect(
      contribute(
        t.db,
        things,
        { sourceSystem: 'a', sourceId: '2', attributes: { key: 'k2', label: 'two' } },
        {
          beforeCommit: async () => {
            throw new Error('the transaction fails after writing');
          },
        },
      ),
    ).rejects.toThrow('fails after writing');
    expect(await count('SELECT count(*)::int AS n FROM outbox')).toBe(3);
    expect(await count('SELECT count(*)::int AS n FROM ref_changes')).toBe(3);
    expect(await count('SELECT count(*)::int AS n FROM ref_source_records')).toBe(2);
    expect(await count('SELECT count(*)::int AS n FROM ref_golden')).toBe(1);
  });

  it('filters by type and pages with the cursor', async () => {
    for (let i = 0; i < 5; i++) await contribute(t.db, things, { sourceSystem: 'a', sourceId: `s${i}`, attributes: { key: `k${i}`, label: 'x' } });
    await contribute(t.db, things, { sourceSystem: 'a', sourceId: 's0', attributes: { key: 'k0', label: 'y' } });
    const page1 = await readChanges(t.db, { since: 0, limit: 2 });
    const page2 = await readChanges(t.db, { since: page1.next, limit: 10 });
    expect([...page1.changes, ...page2.changes].map((c) => c.position)).toEqual([1, 2, 3, 4, 5, 6]);
    const updates = await readChanges(t.db, { since: 0, types: ['golden.updated'] });
    expect(updates.changes.map((c) => c.position)).toEqual([6]);
    expect(updates.next).toBe(6);
    expect((await readChanges(t.db, { since: 6 })).next).toBe(6);
  });

  it('a reader polling while 20 writers commit sees positions strictly increasing and complete', async () => {
    const writers = 20;
    const perWriter = driver === 'pg' ? 8 : 4;
    let writing = true;
    const seen: Change[] = [];
    const reader = (async () => {
      let since = 0;
      for (;;) {
        const done = !writing;
        const page = await readChanges(t.db, { since, limit: 50 });
        for (const c of page.changes) {
          // Never a position at or below one already read.
          if (c.position <= (seen.at(-1)?.position ?? 0)) throw new Error(`position ${c.position} after ${seen.at(-1)?.position}`);
          seen.push(c);
        }
        since = page.next;
        if (done && page.changes.length === 0) return;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          // Positions are assigned by the contribution itself (best effort) or by a concurrent "periodic job".
          await contribute(t.db, things, { sourceSystem: 'a', sourceId: `w${w}-${i}`, attributes: { key: `w${w}-${i}`, label: 'x' } }, { assignPositions: i % 2 === 0 });
          if (i % 3 === 0) await assignChangePositions(t.db);
        }
      }),
    );
    await assignChangePositions(t.db);
    writing = false;
    await reader;
    const total = writers * perWriter;
    expect(seen.map((c) => c.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(seen.map((c) => c.goldenId)).size).toBe(total);
    expect(await count('SELECT count(*)::int AS n FROM ref_changes WHERE position IS NULL')).toBe(0);
  });
});
