// Writes a referential's change feed straight in SQL, for the sync fault tests and bench:sync: thousands of changes in
// one statement each, far faster than contributions (the engine's decisions are not what these measure). Each change
// has its record version in ref_golden_superseded (read through the view ref_golden_history) (what a sender loads and minimises), and the feed is numbered as the
// hub numbers it (assignChangePositions).
import { assignChangePositions } from '../../src/golden/changes.ts';
import type { Db } from '../../src/storage/db.ts';

export interface FeedWriterOptions {
  referential?: string;
  /** How many distinct records the changes cycle through: change i is of record i % keys, at version ⌊i / keys⌋ + 1. */
  keys: number;
  /** Prefix of the golden ids (distinct per test, so that writers on one database never share a record). */
  idPrefix: string;
  /** Commune of every record (a territory scope filters on it). */
  commune?: string;
}

/** A company-like record's attributes, stored as the engine stores them (value, source, at). */
const attributesSql = `jsonb_build_object(
  'ice', jsonb_build_object('value', lpad((100000000 + k)::text, 15, '0'), 'source', jsonb_build_object('system', 'feed', 'id', gid), 'at', now()),
  'nameFr', jsonb_build_object('value', 'Company ' || k || ' v' || version, 'source', jsonb_build_object('system', 'feed', 'id', gid), 'at', now()),
  'commune', jsonb_build_object('value', $5::text, 'source', jsonb_build_object('system', 'feed', 'id', gid), 'at', now()))`;

/** Appends changes to the feed; consecutive calls continue the records' versions where the last call left them. */
export class FeedWriter {
  private written = 0;
  readonly referential: string;

  constructor(
    private readonly db: Db,
    private readonly options: FeedWriterOptions,
  ) {
    this.referential = options.referential ?? 'companies';
  }

  /** How many changes this writer has appended. */
  get count(): number {
    return this.written;
  }

  /** The golden id of record k. */
  goldenId(k: number): string {
    return `${this.options.idPrefix}${String(k).padStart(8, '0')}`;
  }

  /** Appends `n` changes (history rows and feed rows in one statement, then numbered); returns the last position. */
  async append(n: number): Promise<number> {
    const from = this.written;
    await this.db.query(
      `WITH s AS (SELECT i, i % $3 AS k, $2 || lpad((i % $3)::text, 8, '0') AS gid, (i / $3) + 1 AS version
                    FROM generate_series($4::bigint, $4::bigint + $6 - 1) AS i),
            h AS (INSERT INTO ref_golden_superseded (golden_id, referential, version, status, merged_into, attributes, links, cause, valid_from)
                  SELECT gid, $1, version, 'active', NULL, ${attributesSql}, '[]'::jsonb, 'contribution', now() FROM s)
       INSERT INTO ref_changes (referential, golden_id, version, type, payload, outbox_id)
       SELECT $1, gid, version, CASE WHEN version = 1 THEN 'golden.created' ELSE 'golden.updated' END,
              jsonb_build_object('referential', $1::text, 'goldenId', gid, 'version', version), 0
         FROM s ORDER BY i`,
      [this.referential, this.options.idPrefix, this.options.keys, from, this.options.commune ?? '01.051.11.01', n],
    );
    this.written += n;
    await assignChangePositions(this.db);
    const { rows } = await this.db.query<{ p: string | null }>('SELECT max(position) AS p FROM ref_changes');
    return Number(rows[0]?.p ?? 0);
  }
}
