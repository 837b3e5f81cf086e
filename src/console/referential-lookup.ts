// What the referentials page asks of the store: a search by name (the referential service's own trigram search, Arabic
// or Latin) or by identifier (the natural key the module derives from it), a record's history and its source records.
// Every input is checked before it reaches SQL (ConsoleInputError naming the field).
import type { ReferentialModule } from '../golden/module.ts';
import type { GoldenAttributes, GoldenRecord, GoldenStatus } from '../golden/engine-types.ts';
import { resolveMany } from '../golden/reads.ts';
import type { Queryable } from '../storage/db.ts';
import { textFault } from '../storage/storable.ts';
import { searchForm, searchGoldensAfter, type SearchAfter } from '../golden/search.ts';
import { ConsoleInputError } from './errors.ts';

/**
 * The identifier fields each referential's module reads a lone identifier from (the search box may hold one), with the
 * least the module needs besides to accept a record (a name): the module normalises the identifier and derives its
 * natural key exactly as for a contribution, so a CIN typed in lower case or a plate in Latin letters finds its record.
 */
const identifierFields: Record<string, ReadonlyArray<{ field: string; filler: Record<string, string> }>> = {
  persons: [{ field: 'cin', filler: { lastNameLatin: 'x' } }],
  companies: [{ field: 'ice', filler: { nameFr: 'x' } }],
  vehicles: [{ field: 'plate', filler: {} }, { field: 'vin', filler: {} }],
};

export const searchPageSize = 20;

/** The query text, checked: 2 to 200 characters PostgreSQL can store. */
export function searchText(raw: string | undefined): string | undefined {
  const text = (raw ?? '').trim();
  if (text === '') return undefined;
  if (text.length < 2 || text.length > 200) throw new ConsoleInputError('q', 'la recherche tient en 2 à 200 caractères');
  if (textFault(text)) throw new ConsoleInputError('q', 'la recherche contient des caractères non admis');
  return text;
}

/** A record the identifier in the query names (a CIN, an ICE, a plate, a VIN), when it is one and the record exists. */
async function byIdentifier(db: Queryable, module: ReferentialModule, text: string): Promise<GoldenRecord | undefined> {
  if (/\s{2,}/.test(text) || text.length > 40) return undefined;
  for (const { field, filler } of identifierFields[module.name] ?? []) {
    const normalised = module.normalise({ ...filler, [field]: text });
    if (!normalised.ok) continue;
    const keys = module.naturalKeys(normalised.attributes);
    if (keys.length === 0) continue;
    const found = await resolveMany(db, module.name, keys.map((key) => ({ key })));
    for (const r of found) if (r.found) return r.golden;
  }
  return undefined;
}

export interface SearchResults {
  records: Array<{ golden: GoldenRecord; similarity: number | null }>;
  /** Where the next page starts (the last row's name and id), absent when this page is the last. */
  next?: SearchAfter;
}

/**
 * A page of the records the query names: on the first page the one its identifier designates, then the similar
 * names, best first (searchGoldensAfter's keyset order), after `after` on the next pages.
 */
export async function searchRecords(db: Queryable, module: ReferentialModule, text: string, after: SearchAfter | undefined): Promise<SearchResults> {
  const exact = after === undefined ? await byIdentifier(db, module, text) : undefined;
  const rows = await searchGoldensAfter(db, module.name, { form: searchForm(text), after, limit: searchPageSize + 1 });
  const shown = rows.slice(0, searchPageSize);
  const resolved = await resolveMany(db, module.name, shown.map((r) => ({ goldenId: r.id })));
  const records = resolved.flatMap((r, i) => (r.found && r.golden.id !== exact?.id ? [{ golden: r.golden, similarity: shown[i]?.sim ?? 0 }] : []));
  const last = shown.at(-1);
  return { records: [...(exact ? [{ golden: exact, similarity: null }] : []), ...records], ...(rows.length > searchPageSize && last ? { next: { blockingText: last.blockingText, id: last.id } } : {}) };
}

export interface HistoryEntry {
  version: number;
  status: GoldenStatus;
  cause: string;
  validFrom: Date;
}

export const historyLimit = 100;

/** The record's versions, latest first, at most historyLimit (the referential service's getHistory reads the same rows). */
export async function recordHistory(db: Queryable, referential: string, goldenId: string): Promise<HistoryEntry[]> {
  const { rows } = await db.query<{ version: number; status: GoldenStatus; cause: string; valid_from: Date }>(
    `SELECT version, status, cause, valid_from FROM ref_golden_history WHERE golden_id = $1 AND referential = $2
      ORDER BY valid_from DESC, seq DESC LIMIT $3`,
    [goldenId, referential, historyLimit],
  );
  return rows.map((r) => ({ version: r.version, status: r.status, cause: r.cause, validFrom: r.valid_from }));
}

/** A source record's attributes as that system last gave them. */
export async function sourceAttributes(db: Queryable, referential: string, sources: ReadonlyArray<{ system: string; id: string }>): Promise<Map<string, GoldenAttributes | Record<string, unknown>>> {
  if (sources.length === 0) return new Map();
  const { rows } = await db.query<{ source_system: string; source_id: string; attributes: Record<string, unknown> }>(
    `SELECT s.source_system, s.source_id, s.attributes FROM ref_source_records s
      JOIN unnest($2::text[], $3::text[]) AS w(sys, sid) ON s.source_system = w.sys AND s.source_id = w.sid WHERE s.referential = $1`,
    [referential, sources.map((s) => s.system), sources.map((s) => s.id)],
  );
  return new Map(rows.map((r) => [`${r.source_system}\u0000${r.source_id}`, r.attributes]));
}

/** The latest merge of `mergedId` not undone: what an unmerge would undo (its decision number). */
export async function liveMergeOf(db: Queryable, referential: string, mergedId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM ref_steward_decisions WHERE referential = $1 AND kind = 'merge' AND undone_by IS NULL AND detail->>'mergedId' = $2 ORDER BY id DESC LIMIT 1`,
    [referential, mergedId],
  );
  return rows[0]?.id;
}
