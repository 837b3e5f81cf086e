// What bench:console fills before it times the pages: the referentials at full scale as the engine stores them, by
// ingesting a generated base through the real bulk path (contributeBulk: golden records, history, links, natural and
// blocking keys, source records and versions, changes, review items exactly as an import writes them), then copying
// that base by SQL (generate_series) until each referential holds its target count. A copy k of a base row gets
// golden id with the 4 hex digits after its last dash plus k (still a UUID, interleaved with the base in id order, as
// v7 ids of one import are), source ids and natural keys suffixed `~k`; names, blocking texts and match fields are the
// base's, so a million persons share the base's distinct names (the generator's full-scale set has 587,289 for 1M
// since its family names became many, decisions §30; about 31,000 before: these pages' figures predate that).
// Then open review items are topped up to ~1 % of the persons (a record and its successor in id order as candidate).
import { generateInMemory, type Referential } from '../referentials/generator/generate.ts';
import { referentialModules } from '../referentials/index.ts';
import { contributeBulk } from '../src/golden/bulk.ts';
import type { Db } from '../src/storage/db.ts';

export interface ReferentialTargets {
  persons: number;
  companies: number;
  vehicles: number;
}

/** The generated base: what goes through the real ingest before the SQL copies (cut to the target when smaller). */
const baseSize: ReferentialTargets = { persons: 20_000, companies: 4_000, vehicles: 10_000 };
const chunk = 2_000;

// The first 19 characters (ms and counter of a v7 id) are unique per base id, so copies of two base ids never meet;
// adding k (mod 2^16) to the next four hex digits keeps every copy of one id apart from it and from each other.
const mapId = (column: string) =>
  `left(${column}, 24) || lpad(to_hex((('x' || substr(${column}, 25, 4))::bit(16)::int + k) % 65536), 4, '0') || right(${column}, 8)`;
/** Every `"id": "<source id>"` inside attributes / links JSON gets the copy's suffix (the only "id" keys there). */
const mapSourceIds = (column: string) => `regexp_replace(${column}::text, '("id": "[^"]*)"', '\\1~' || k || '"', 'g')::jsonb`;

/** The copies of one referential's base rows, table by table; $1 the referential, $2 the last copy number, $3 the position step. */
const copyStatements: readonly string[] = [
  `INSERT INTO ref_golden (id, referential, version, status, merged_into, attributes, blocking_text, match_fields, blocking_keys, created_at, updated_at, attribute_values,
                           links, cause, valid_from, version_seq)
   SELECT ${mapId('id')}, referential, version, status, CASE WHEN merged_into IS NULL THEN NULL ELSE ${mapId('merged_into')} END,
          ${mapSourceIds('attributes')}, blocking_text, match_fields, blocking_keys, created_at, updated_at, attribute_values,
          ${mapSourceIds('links')}, cause, valid_from, CASE WHEN version_seq IS NULL THEN NULL ELSE nextval('ref_golden_version_seq') END
     FROM ref_golden, generate_series(1, $2::int) k WHERE referential = $1`,
  `INSERT INTO ref_golden_superseded (golden_id, referential, version, status, merged_into, attributes, links, cause, valid_from)
   SELECT ${mapId('golden_id')}, referential, version, status, CASE WHEN merged_into IS NULL THEN NULL ELSE ${mapId('merged_into')} END,
          ${mapSourceIds('attributes')}, ${mapSourceIds('links')}, cause, valid_from
     FROM ref_golden_superseded, generate_series(1, $2::int) k WHERE referential = $1`,
  `INSERT INTO ref_source_records (referential, source_system, source_id, version, attributes, received_at)
   SELECT referential, source_system, source_id || '~' || k, version, attributes, received_at FROM ref_source_records, generate_series(1, $2::int) k WHERE referential = $1`,
  `INSERT INTO ref_source_versions (referential, source_system, source_id, version, attributes, received_at, recorded_at)
   SELECT referential, source_system, source_id || '~' || k, version, attributes, received_at, recorded_at FROM ref_source_versions, generate_series(1, $2::int) k WHERE referential = $1`,
  `INSERT INTO ref_links (referential, source_system, source_id, golden_id, how, detail, at)
   SELECT referential, source_system, source_id || '~' || k, ${mapId('golden_id')}, how, detail, at FROM ref_links, generate_series(1, $2::int) k WHERE referential = $1`,
  `INSERT INTO ref_natural_keys (referential, key_type, key_value, golden_id)
   SELECT referential, key_type, key_value || '~' || k, ${mapId('golden_id')} FROM ref_natural_keys, generate_series(1, $2::int) k WHERE referential = $1`,
  // A copy lists its base record's keys: the same hashes (migration 0026), found by the base record's referential.
  `INSERT INTO ref_blocking_keys (key_hash, golden_id)
   SELECT b.key_hash, ${mapId('b.golden_id')} FROM ref_blocking_keys b JOIN ref_golden g ON g.id = b.golden_id, generate_series(1, $2::int) k WHERE g.referential = $1`,
  `INSERT INTO ref_changes (position, referential, golden_id, version, type, payload, outbox_id, created_at)
   SELECT position + k * $3::bigint, referential, ${mapId('golden_id')}, version, type, jsonb_set(payload, '{goldenId}', to_jsonb(${mapId('golden_id')})), outbox_id, created_at
     FROM ref_changes, generate_series(1, $2::int) k WHERE referential = $1 AND position IS NOT NULL`,
  `INSERT INTO ref_review_items (referential, source_system, source_id, golden_id, candidates, status, created_at)
   SELECT referential, source_system, source_id || '~' || k, ${mapId('golden_id')},
          (SELECT jsonb_agg(jsonb_set(c, '{goldenId}', to_jsonb(${mapId("(c->>'goldenId')")}))) FROM jsonb_array_elements(candidates) c), status, created_at
     FROM ref_review_items, generate_series(1, $2::int) k WHERE referential = $1`,
];

export interface FillReport {
  /** Golden records per referential after the fill. */
  goldens: Record<Referential, number>;
  openReviewItems: number;
  baseIngestSeconds: number;
  copySeconds: number;
}

const log = (text: string) => process.stderr.write(`${text}\n`);

export async function fillReferentials(db: Db, targets: ReferentialTargets, seed = 5): Promise<FillReport> {
  const base = { persons: Math.min(baseSize.persons, targets.persons), companies: Math.min(baseSize.companies, targets.companies), vehicles: Math.min(baseSize.vehicles, targets.vehicles) };
  const { records } = generateInMemory({ seed, dupRate: 0.1, ...base });
  let started = performance.now();
  for (const module of referentialModules) {
    const rows = records[module.name as Referential] ?? [];
    for (let at = 0; at < rows.length; at += chunk) {
      await contributeBulk(db, module, rows.slice(at, at + chunk).map((r, i) => ({ line: at + i + 1, sourceSystem: r.sourceSystem, sourceId: r.sourceId, attributes: r.attributes })));
    }
    log(`  base ${module.name}: ${rows.length} source records ingested`);
  }
  const baseIngestSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const { rows: maxRows } = await db.query<{ max: string | null }>('SELECT max(position) AS max FROM ref_changes');
  const positionStep = Number(maxRows[0]?.max ?? 0) + 1;
  for (const name of ['persons', 'companies', 'vehicles'] as const) {
    const copies = Math.ceil(targets[name] / Math.max(1, base[name])) - 1;
    if (copies < 1) continue;
    for (const statement of copyStatements) await db.query(statement, statement.includes('$3') ? [name, copies, positionStep] : [name, copies]);
    log(`  ${name}: ${copies} SQL copies of the base`);
  }
  const goldens = { persons: 0, companies: 0, vehicles: 0 } as Record<Referential, number>;
  const { rows: counts } = await db.query<{ referential: Referential; n: string }>(`SELECT referential, count(*) AS n FROM ref_golden WHERE status = 'active' GROUP BY referential`);
  for (const r of counts) if (r.referential in goldens) goldens[r.referential] = Number(r.n);
  // Open review items to ~1 % of the persons: the record's first source, its id-order successor as the candidate.
  const { rows: open } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ref_review_items WHERE referential = 'persons' AND status = 'open'`);
  const missing = Math.floor(goldens.persons / 100) - Number(open[0]?.n ?? 0);
  if (missing > 0) {
    const step = Math.max(1, Math.floor(goldens.persons / missing));
    await db.query(
      `INSERT INTO ref_review_items (referential, source_system, source_id, golden_id, candidates)
       SELECT 'persons', l.source_system, l.source_id, g.id,
              jsonb_build_array(jsonb_build_object('goldenId', g.next, 'score', 19, 'weights',
                '{"lastName": 4.81, "firstName": 4.69, "birthDate": -3.12, "commune": 6.21, "sex": 0.93, "doubtful": -13.5}'::jsonb))
         FROM (SELECT id, lead(id) OVER (ORDER BY id) AS next, row_number() OVER (ORDER BY id) AS rn FROM ref_golden WHERE referential = 'persons' AND status = 'active') g
         CROSS JOIN LATERAL (SELECT source_system, source_id FROM ref_links WHERE golden_id = g.id LIMIT 1) l
        WHERE g.rn % $1 = 0 AND g.next IS NOT NULL`,
      [step],
    );
  }
  const { rows: openAfter } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ref_review_items WHERE status = 'open'`);
  for (const table of ['ref_golden', 'ref_golden_superseded', 'ref_links', 'ref_natural_keys', 'ref_blocking_keys', 'ref_source_records', 'ref_source_versions', 'ref_changes', 'ref_review_items', 'ref_search_names']) {
    await db.query(`ANALYZE ${table}`);
  }
  return { goldens, openReviewItems: Number(openAfter[0]?.n ?? 0), baseIngestSeconds, copySeconds: (performance.now() - started) / 1000 };
}
