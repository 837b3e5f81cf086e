// A subscription's view of its referential's change feed, read by cursor: the changes after a position, kept by the
// subscription's kinds and territory, each with its record as it was at that version. Pull reads (pull.ts) and change
// files (files.ts) both read it here; push makes deliveries of the same changes (deliveries.ts fanOut).
import { plainValues } from '../golden/engine-survivorship.ts';
import type { GoldenAttributes } from '../golden/engine-types.ts';
import type { Queryable } from '../storage/db.ts';
import type { ClaimedDelivery } from './deliveries.ts';
import { communeOf, inScope } from './scope.ts';

/** One change of the feed, with its record at that version (the shape pushedChange() turns into what is sent). */
export type FeedChange = Pick<ClaimedDelivery, 'position' | 'goldenId' | 'version' | 'type' | 'changeAt' | 'record'>;

export interface FeedFilter {
  referential: string;
  /** Kinds of change kept; null: all. */
  types: readonly string[] | null;
  /** Territory code a record's commune must lie under; null: everywhere. */
  scope: string | null;
}

export interface FeedPage {
  changes: FeedChange[];
  /**
   * Where the next read starts: the last change returned when the page is full, else the last change read (kept or
   * not), so that changes outside the subscription's kinds or scope are not read again.
   */
  next: number;
  /** More changes may follow right away (a full page, or the scan bound reached). */
  more: boolean;
}

/** Feed rows read per query, and at most per page: the work a page costs is bounded whatever the filter keeps. */
const scanChunk = 1000;
export const maxScannedPerPage = 5000;

interface FeedRow {
  position: string;
  golden_id: string;
  version: number;
  type: string;
  created_at: Date;
  status: string | null;
  merged_into: string | null;
  attributes: Record<string, unknown> | null;
}

/** Up to `limit` changes after `after` that pass the filter, reading at most maxScannedPerPage rows of the feed. */
export async function readFeedPage(db: Queryable, filter: FeedFilter, after: number, limit: number): Promise<FeedPage> {
  const changes: FeedChange[] = [];
  let cursor = after;
  let scanned = 0;
  while (scanned < maxScannedPerPage) {
    const want = Math.min(scanChunk, maxScannedPerPage - scanned);
    const rows = await readRows(db, filter, cursor, want);
    for (const row of rows) {
      cursor = Number(row.position);
      const change = keep(row, filter);
      if (!change) continue;
      changes.push(change);
      if (changes.length === limit) return { changes, next: cursor, more: true };
    }
    scanned += rows.length;
    if (rows.length < want) return { changes, next: cursor, more: false };
  }
  return { changes, next: cursor, more: true };
}

/** The feed's rows after `after`, with the record at each version (only for the kinds kept: the others are skipped). */
async function readRows(db: Queryable, filter: FeedFilter, after: number, limit: number): Promise<FeedRow[]> {
  const { rows } = await db.query<FeedRow>(
    `SELECT c.position, c.golden_id, c.version, c.type, c.created_at, h.status, h.merged_into, h.attributes
       FROM ref_changes c
       LEFT JOIN LATERAL (SELECT status, merged_into, attributes FROM ref_golden_history h
                           WHERE h.golden_id = c.golden_id AND h.version = c.version ORDER BY h.seq DESC LIMIT 1) h
              ON ($3::text[] IS NULL OR c.type = ANY($3::text[]))
      WHERE c.referential = $1 AND c.position > $2
      ORDER BY c.position LIMIT $4`,
    [filter.referential, after, filter.types ? [...filter.types] : null, limit],
  );
  return rows;
}

function keep(row: FeedRow, filter: FeedFilter): FeedChange | undefined {
  if (filter.types !== null && !filter.types.includes(row.type)) return undefined;
  const attributes = row.attributes ? plainValues(row.attributes as GoldenAttributes) : null;
  if (!inScope(communeOf(attributes ?? undefined), filter.scope)) return undefined;
  return {
    position: Number(row.position),
    goldenId: row.golden_id,
    version: row.version,
    type: row.type,
    changeAt: row.created_at,
    record: { status: row.status, mergedInto: row.merged_into, attributes },
  };
}

/** The last position of one referential's feed (0 when it has none). */
export async function lastFeedPosition(db: Queryable, referential?: string): Promise<number> {
  const { rows } = referential === undefined
    ? await db.query<{ p: string | null }>('SELECT max(position) AS p FROM ref_changes')
    : await db.query<{ p: string | null }>('SELECT max(position) AS p FROM ref_changes WHERE referential = $1 AND position IS NOT NULL', [referential]);
  return Number(rows[0]?.p ?? 0);
}
