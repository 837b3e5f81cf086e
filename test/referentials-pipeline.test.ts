// The pipelined import (src/golden/bulk-pipeline.ts), PostgreSQL only (it needs several connections): the same
// clusters as chunks applied in turn, with most chunks decided while the previous one is written; nothing that breaks
// what a golden record must be; single contributions between chunks are seen (the chunk is decided again); and every
// CIN stays one record when single contributions race the import.
import { describe, expect, it } from 'vitest';
import { contributeBulk } from '../src/golden/bulk.ts';
import { prepareBulk, type BulkOutcome, type BulkRow, type PreparedBulk } from '../src/golden/bulk-prepare.ts';
import { contributePipelined } from '../src/golden/bulk-pipeline.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { computeGolden } from '../src/golden/compute.ts';
import { findByNaturalKey, getGolden } from '../src/golden/reads.ts';
import { normaliseKey } from '../referentials/golden-service.ts';
import { personsModule } from '../referentials/index.ts';
import { pairwiseQuality } from '../referentials/persons/evaluate.ts';
import { blockingKeyRows, emptyReferentials, referentialsDbPerBlock, type TestDb } from './helpers/db.ts';
import { generatedPersons, personsByCin } from './helpers/generated.ts';

const persons = personsModule as unknown as ReferentialModule;

const generated = generatedPersons;

async function* chunksOf(rows: readonly BulkRow[], size: number): AsyncGenerator<PreparedBulk> {
  for (let i = 0; i < rows.length; i += size) yield prepareBulk(persons, rows.slice(i, i + size));
}

async function count(t: TestDb, sql: string): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>(sql);
  return Number(rows[0]?.n ?? 0);
}

/** Each row's cluster (a small integer per golden record), from the links as the database holds them. */
async function clusters(t: TestDb, rows: readonly BulkRow[]): Promise<number[]> {
  const { rows: links } = await t.db.query<{ source_system: string; source_id: string; golden_id: string }>('SELECT source_system, source_id, golden_id FROM ref_links');
  const goldenOf = new Map(links.map((l) => [`${l.source_system}|${l.source_id}`, l.golden_id]));
  const ids = new Map<string, number>();
  return rows.map((r) => {
    const g = goldenOf.get(`${r.sourceSystem}|${r.sourceId}`) ?? `missing ${r.sourceId}`;
    if (!ids.has(g)) ids.set(g, ids.size);
    return ids.get(g) as number;
  });
}

describe('pipelined import on pg', () => {
  let t!: TestDb;
  referentialsDbPerBlock('pg', (db) => (t = db));

  it('makes the clusters that chunks applied in turn make, deciding chunks while the previous one is written', { timeout: 180_000 }, async () => {
    const { rows, entities } = generated(7, 3000);
    const serialOutcomes: BulkOutcome[] = [];
    for (let i = 0; i < rows.length; i += 250) serialOutcomes.push(...(await contributeBulk(t.db, persons, rows.slice(i, i + 250))));
    const serial = await clusters(t, rows);
    await emptyReferentials(t.db);

    const outcomes: BulkOutcome[] = [];
    const stats = await contributePipelined(t.db, chunksOf(rows, 250), { committed: async (o) => void outcomes.push(...o) });
    expect(outcomes).toHaveLength(rows.length);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const pipelined = await clusters(t, rows);
    const agreement = pairwiseQuality(pipelined, serial.map(String));
    const quality = pairwiseQuality(pipelined, entities);
    console.log(
      `pipelined: ${stats.overlapped} of ${stats.chunks} chunks decided early; against chunks in turn: pairs ${agreement.correctPairs} shared of ` +
        `${agreement.predictedPairs} and ${agreement.truePairs}; against the ground truth: precision ${quality.precision.toFixed(4)}, recall ${quality.recall.toFixed(4)}`,
    );
    expect(stats.chunks).toBe(Math.ceil(rows.length / 250));
    expect(stats.overlapped).toBeGreaterThanOrEqual(stats.chunks - 2);
    expect(agreement.precision).toBeGreaterThanOrEqual(0.99);
    expect(agreement.recall).toBeGreaterThanOrEqual(0.99);
    expect(quality.precision).toBeGreaterThanOrEqual(0.98);
    expect(quality.recall).toBeGreaterThanOrEqual(0.95);

    // What golden records must be: no link to a merged record, keys only on active ones, attributes and blocking keys
    // as recomputation gives them, one change per version.
    expect(await count(t, "SELECT count(*)::int AS n FROM ref_links l JOIN ref_golden g ON g.id = l.golden_id WHERE g.status <> 'active'")).toBe(0);
    expect(await count(t, "SELECT count(*)::int AS n FROM ref_natural_keys n JOIN ref_golden g ON g.id = n.golden_id WHERE g.status <> 'active'")).toBe(0);
    expect(await count(t, "SELECT count(*)::int AS n FROM ref_natural_keys n LEFT JOIN ref_golden g ON g.id = n.golden_id WHERE g.id IS NULL")).toBe(0);
    const { rows: sample } = await t.db.query<{ id: string }>("SELECT id FROM ref_golden WHERE status = 'active' ORDER BY md5(id) LIMIT 60");
    for (const { id } of sample) {
      const golden = await getGolden(t.db, 'persons', id);
      const computed = await computeGolden(t.db, persons, id);
      expect(golden?.attributes).toEqual(computed.attributes);
      expect((await blockingKeyRows(t.db, id)).map((k) => k.key)).toEqual(computed.blockingKeys);
    }
    expect(await count(t, 'SELECT count(*)::int AS n FROM ref_changes')).toBe(await count(t, 'SELECT count(*)::int AS n FROM ref_golden_history'));
  });

  it('decides a chunk again when a single contribution commits between chunks, and links to what it made', { timeout: 60_000 }, async () => {
    const { rows } = generated(11, 600);
    // A CIN of the third chunk, contributed by another system once the second chunk has committed.
    const target = rows.slice(200, 300).find((r) => typeof (r.attributes as { cin?: unknown }).cin === 'string') as BulkRow;
    const attributes = target.attributes as Record<string, unknown>;
    let committed = 0;
    let single: string | undefined;
    const stats = await contributePipelined(t.db, chunksOf(rows, 100), {
      committed: async () => {
        committed++;
        if (committed === 2) single = (await contribute(t.db, persons, { sourceSystem: 'registry-office', sourceId: 'ro-1', attributes })).goldenId;
      },
    });
    expect(stats.redecided).toBeGreaterThanOrEqual(1);
    const key = normaliseKey('cin', String(attributes.cin));
    if (!key.ok) throw new Error(key.message);
    const golden = await findByNaturalKey(t.db, 'persons', key.key);
    expect(golden?.id).toBe(single);
    const { rows: link } = await t.db.query<{ golden_id: string; how: string }>('SELECT golden_id, how FROM ref_links WHERE source_system = $1 AND source_id = $2', [target.sourceSystem, target.sourceId]);
    expect(link[0]).toEqual({ golden_id: single, how: 'identifier' });
  });

  it('never makes two records for one CIN when single contributions race the import', { timeout: 60_000 }, async () => {
    const { cins, row } = personsByCin(200000, 60);
    await Promise.all([
      contributePipelined(t.db, chunksOf(cins.map((_, i) => row('cnss', i)), 10), { committed: async () => undefined }),
      ...cins.map((_, i) => contribute(t.db, persons, { sourceSystem: 'marroute', sourceId: `marroute-${i}`, attributes: row('marroute', i).attributes })),
    ]);
    expect(await count(t, "SELECT count(*)::int AS n FROM ref_golden WHERE status = 'active'")).toBe(cins.length);
    expect(await count(t, 'SELECT count(DISTINCT golden_id)::int AS n FROM ref_links')).toBe(cins.length);
  });

  it('stops at a chunk whose writes fail: the chunks before it committed, it and the next one not, and no hang', { timeout: 30_000 }, async () => {
    // A natural key without a value passes the decisions and fails the insert (NOT NULL): a failure inside the write.
    const failing: ReferentialModule = {
      ...persons,
      naturalKeys: (a) => ((a as { lastNameLatin?: string }).lastNameLatin === 'Boom' ? [{ type: 'cin', value: null as unknown as string }] : persons.naturalKeys(a)),
    };
    const row = (i: number, last: string): BulkRow => ({
      line: i + 1,
      sourceSystem: 'btp',
      sourceId: `b-${i}`,
      attributes: { cin: `AB${300000 + i}`, firstNameLatin: 'Salma', lastNameLatin: last, birthDate: '1990-05-06' },
    });
    const rows = Array.from({ length: 40 }, (_, i) => row(i, i === 25 ? 'Boom' : `Idrissi${i}`));
    const chunks = async function* (): AsyncGenerator<PreparedBulk> {
      for (let i = 0; i < rows.length; i += 10) yield prepareBulk(failing, rows.slice(i, i + 10));
    };
    const committed: number[] = [];
    await expect(contributePipelined(t.db, chunks(), { committed: async (o) => void committed.push(o.length) })).rejects.toThrow(/null value|not-null/);
    expect(committed).toEqual([10, 10]);
    expect(await count(t, 'SELECT count(*)::int AS n FROM ref_source_records')).toBe(20);
  });
});
