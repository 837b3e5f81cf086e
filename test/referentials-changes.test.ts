// The change feed on both drivers: one change and one outbox row per golden-record change, in the same transaction,
// and positions ordered and gap-free for a reader polling while many writers commit (invariant 4).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contribute } from '../src/golden/engine.ts';
import { assignChangePositions, readChanges, writeNumberedChanges, type Change } from '../src/golden/changes.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { contributePrepared } from '../src/golden/bulk.ts';
import { prepareBulk } from '../src/golden/bulk-prepare.ts';
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
  /** Reads the feed after `since` into `seen` until writing stops and a read finds nothing new; throws on a position at or below one already read. */
  const pollFeed = async (since: number, seen: Change[], writing: () => boolean): Promise<void> => {
    for (let cursor = since; ; ) {
      const done = !writing();
      const page = await readChanges(t.db, { since: cursor, limit: 50 });
      for (const c of page.changes) {
        if (c.position <= (seen.at(-1)?.position ?? since)) throw new Error(`position ${c.position} after ${seen.at(-1)?.position ?? since}`);
        seen.push(c);
      }
      cursor = page.next;
      if (done && page.changes.length === 0) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  };

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
    const reader = pollFeed(0, seen, () => writing);
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

  it('a bulk chunk numbers its changes as it writes them, in order, beside writers numbered after commit', async () => {
    // A chunk alone: its changes are numbered when it commits, no numbering after (assignPositions: false).
    const first = await contributePrepared(t.db, prepareBulk(things, Array.from({ length: 30 }, (_, i) => ({ line: i + 1, sourceSystem: 'a', sourceId: `c${i}`, attributes: { key: `c${i}`, label: 'x' } }))), { assignPositions: false });
    expect(first.every((o) => o.ok)).toBe(true);
    expect(await count('SELECT count(*)::int AS n FROM ref_changes WHERE position IS NULL')).toBe(0);
    expect((await readChanges(t.db, { since: 0 })).changes.map((c) => c.position)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    // Chunks (each updating records the single writers also update), single contributions numbered after commit or
    // later, and a reader polling all the while: positions strictly increasing, gap-free, and each record's versions
    // in position order.
    let writing = true;
    const seen: Change[] = [];
    const reader = pollFeed(30, seen, () => writing);
    const chunks = driver === 'pg' ? 6 : 3;
    await Promise.all([
      ...Array.from({ length: chunks }, async (_, n) => {
        const rows = Array.from({ length: 40 }, (_, i) => ({ line: i + 1, sourceSystem: 'b', sourceId: `n${n}-${i}`, attributes: { key: i < 10 ? `c${i}` : `n${n}-${i}`, label: `chunk ${n}` } }));
        const outcomes = await contributePrepared(t.db, prepareBulk(things, rows), { assignPositions: n % 2 === 0 });
        expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      }),
      // A chunk of rows its records already have (taken one by one, their changes numbered after commit) after rows
      // that link to the same records (gathered, numbered as the chunk writes them).
      (async () => {
        const rows = Array.from({ length: 20 }, (_, i) =>
          i < 10
            ? { line: i + 1, sourceSystem: 'd', sourceId: `d${i}`, attributes: { key: `c${i}`, label: 'linked' } }
            : { line: i + 1, sourceSystem: 'a', sourceId: `c${i - 10}`, attributes: { key: `c${i - 10}`, label: 'again' } },
        );
        const outcomes = await contributePrepared(t.db, prepareBulk(things, rows), { assignPositions: false });
        expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      })(),
      ...Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 8; i++) {
          await contribute(t.db, things, { sourceSystem: 'a', sourceId: `c${(w * 8 + i) % 10}`, attributes: { key: `c${(w * 8 + i) % 10}`, label: `single ${w}-${i}` } }, { assignPositions: i % 2 === 0 });
        }
      }),
    ]);
    await assignChangePositions(t.db);
    writing = false;
    await reader;
    const total = await count('SELECT count(*)::int AS n FROM ref_changes WHERE position > 30');
    expect(total).toBeGreaterThan(chunks * 30);
    expect(seen.map((c) => c.position)).toEqual(Array.from({ length: total }, (_, i) => i + 31));
    // Each record's versions one after the other, from the first chunk's.
    const versions = new Map((await readChanges(t.db, { since: 0, limit: 30 })).changes.map((c) => [c.goldenId, c.version]));
    for (const c of seen) {
      expect({ id: c.goldenId, after: versions.get(c.goldenId) ?? 0, version: c.version }).toEqual({ id: c.goldenId, after: c.version - 1, version: c.version });
      versions.set(c.goldenId, c.version);
    }
  });

  // PostgreSQL only: a second connection must commit and number while the chunk's transaction is open (PGlite has one).
  if (driver === 'pg') it('a chunk numbers the changes committed before it first, and a numberer waits for it, then numbers above', async () => {
    // A change another writer committed unnumbered, then a chunk's transaction that numbers its own and stays open.
    const before = await contribute(t.db, things, { sourceSystem: 'a', sourceId: 'u', attributes: { key: 'u', label: 'x' } }, { assignPositions: false });
    let numbered: Promise<number> | undefined;
    let settled = false;
    let during = '';
    await t.db.transaction(async (tx) => {
      await writeNumberedChanges(tx, things.name, [{ goldenId: 'g-chunk', version: 1, type: 'golden.created' }]);
      // Another writer commits a change meanwhile; a numberer then waits for the chunk (had it not, it would have given
      // that change a position the chunk holds, and failed on it).
      during = (await contribute(t.db, things, { sourceSystem: 'a', sourceId: 'v', attributes: { key: 'v', label: 'x' } }, { assignPositions: false })).goldenId;
      numbered = assignChangePositions(t.db).finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
    });
    expect(await numbered).toBe(1);
    const { changes } = await readChanges(t.db, { since: 0 });
    expect(changes.map((c) => [c.position, c.goldenId])).toEqual([
      [1, before.goldenId],
      [2, 'g-chunk'],
      [3, during],
    ]);
  });
});
