// What every generated entity yields: its source records and their ground truth; plus shared noise (typos, spelling of dates, communes).

import { createHash } from 'node:crypto';
import { territory, type Commune } from '../territory/territory.ts';
import { WeightedTable, type Random } from './random.ts';

export interface SourceRecord {
  sourceSystem: string;
  sourceId: string;
  attributes: Record<string, unknown>;
}

export interface TruthRow {
  referential: 'persons' | 'companies' | 'vehicles';
  sourceSystem: string;
  sourceId: string;
  /** The real-world entity this record describes: `person-000001`, `company-000001`, `vehicle-000001`. */
  entityId: string;
  /** Whether the record is a duplicate (not the entity's first record). */
  duplicate: boolean;
  /** The variations applied to this record (for inspecting misses). */
  variations: string[];
  /** Vehicles: the owner's entity id. */
  ownerEntityId?: string;
}

export interface GeneratedEntity {
  records: SourceRecord[];
  truth: TruthRow[];
}

export interface GeneratorOptions {
  seed: number;
  /** Share of entities that more than one source contributes (each such entity gets 1 extra record, or 2 in 20 %). */
  dupRate: number;
  persons: number;
  companies: number;
  vehicles: number;
  /**
   * Which scripts person records carry: `sources` (each source's habits, the default), `both` (every record both),
   * `cross` (an entity's first record in Arabic only, the others in Latin only: two systems as they really hold
   * names), `latin` (every record in Latin only).
   */
  scriptMode?: ScriptMode;
}

export type ScriptMode = 'sources' | 'both' | 'cross' | 'latin';

export function entityId(kind: 'person' | 'company' | 'vehicle', index: number): string {
  return `${kind}-${String(index + 1).padStart(7, '0')}`;
}

/** Number of duplicate records for one entity: 0, or 1 (80 %) or 2 (20 %) with probability dupRate. */
export function duplicateCount(random: Random, dupRate: number): number {
  if (!random.chance(dupRate)) return 0;
  return random.chance(0.2) ? 2 : 1;
}

/** Which sources contribute an entity: the first is `preferred` with probability `share`, otherwise one of `others`. */
export interface SourcePicking {
  preferred: string;
  share: number;
  /** The sources a first record other than the preferred one, and every duplicate, is drawn from. */
  others: readonly string[];
}

/** The sources of one entity, in the order they contribute: the first, then duplicateCount more, each a new one. */
export function pickSources(random: Random, picking: SourcePicking, dupRate: number): string[] {
  const sources = [random.chance(picking.share) ? picking.preferred : random.pick(picking.others)];
  const extra = duplicateCount(random, dupRate);
  while (sources.length < 1 + extra) {
    const next = random.pick(picking.others);
    if (!sources.includes(next)) sources.push(next);
  }
  return sources;
}

/** How one source writes an entity: its record, and the variations applied to it. */
export type WriteRecord = (source: string, k: number) => { record: SourceRecord; variations: string[] };

/**
 * An entity's records, one per source in order, with a truth row each: the first record is the original, the others
 * duplicates. `truthExtra` adds fields to every row (a vehicle's owner), after the common ones.
 */
export function recordsWithTruth(
  referential: TruthRow['referential'],
  id: string,
  sources: readonly string[],
  write: WriteRecord,
  truthExtra: Pick<TruthRow, 'ownerEntityId'> = {},
): GeneratedEntity {
  const records: SourceRecord[] = [];
  const truth: TruthRow[] = [];
  sources.forEach((source, k) => {
    const { record, variations } = write(source, k);
    records.push(record);
    truth.push({ referential, sourceSystem: source, sourceId: record.sourceId, entityId: id, duplicate: k > 0, variations, ...truthExtra });
  });
  return { records, truth };
}

/**
 * A source's own record id: opaque, deterministic, and unique in practice. 64 bits of SHA-256 over the parts: the
 * generator's 32-bit stream seeds repeated ids at a million persons (two people under one `infractions-…` id: the
 * import took the second as an update of the first, and that golden record held two CINs).
 */
export function sourceId(prefix: string, ...parts: (string | number)[]): string {
  const hash = createHash('sha256');
  for (const part of ['source-id', prefix, ...parts]) hash.update(`${part}\u0000`);
  return `${prefix}-${hash.digest('hex').slice(0, 16)}`;
}

/** One keyboard slip in a Latin word: a letter dropped, doubled, swapped with the next, or replaced by a neighbour key. */
export function typo(random: Random, text: string): string {
  const positions = [...text].map((ch, i) => (/[a-z]/i.test(ch) ? i : -1)).filter((i) => i > 0);
  if (positions.length < 2) return text;
  const i = random.pick(positions);
  const chars = [...text];
  const kind = random.int(0, 2);
  if (kind === 0) chars.splice(i, 1);
  else if (kind === 1 && i + 1 < chars.length) [chars[i], chars[i + 1]] = [chars[i + 1] ?? '', chars[i] ?? ''];
  else {
    const neighbours: Record<string, string> = { a: 'z', z: 'e', e: 'r', r: 't', t: 'y', y: 'u', u: 'i', i: 'o', o: 'p', s: 'd', d: 'f', f: 'g', h: 'j', k: 'l', l: 'm', n: 'b', b: 'v', m: 'n', c: 'x', g: 'h', j: 'k', q: 's', w: 'x', x: 'c', v: 'c', p: 'o' };
    const ch = chars[i] ?? '';
    const lower = ch.toLowerCase();
    const next = neighbours[lower] ?? 'a';
    chars[i] = ch === lower ? next : next.toUpperCase();
  }
  return chars.join('');
}

/** Arabic as typed in practice: hamza on alef dropped, final ة written ه, sometimes. */
export function arabicVariant(random: Random, text: string): string {
  let out = text;
  if (random.chance(0.4)) out = out.replace(/[أإآ]/g, 'ا');
  if (random.chance(0.3)) out = out.replace(/ة(?=\s|$)/g, 'ه');
  return out;
}

export function isoDate(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export function randomDate(random: Random, fromYear: number, toYear: number): string {
  const y = random.int(fromYear, toYear);
  const m = random.int(1, 12);
  return isoDate(y, m, random.int(1, daysInMonth(y, m)));
}

/** A date mistyped: day and month swapped when both could be months, else the day off by one. */
export function dateTypo(random: Random, date: string): string {
  const [y = 2000, m = 1, d = 1] = date.split('-').map(Number);
  if (d <= 12 && d !== m && random.chance(0.5)) return isoDate(y, d, m);
  const day = d > 1 && (d === daysInMonth(y, m) || random.chance(0.5)) ? d - 1 : d + 1;
  return isoDate(y, m, day);
}

interface CommuneTable {
  table: WeightedTable<Commune>;
  code2014: ReadonlyMap<string, string>;
}

let communes: CommuneTable | undefined;

/** Communes weighted by their 2024 population, and the 2014 code of each renumbered one. */
export function communeTable(): CommuneTable {
  if (communes === undefined) {
    const index = territory();
    const list = index.all('commune').filter((u): u is Commune => u.kind === 'commune');
    const code2014 = new Map<string, string>();
    for (const entry of index.crosswalk()) code2014.set(entry.code2024, entry.code2014);
    communes = { table: new WeightedTable(list, (c) => c.population2024), code2014 };
  }
  return communes;
}

/** The commune code as a source writes it: today's, or (with probability `old`) its 2014 code when it had another. */
export function communeAsWritten(random: Random, code: string, old: number): string {
  const previous = communeTable().code2014.get(code);
  return previous !== undefined && random.chance(old) ? previous : code;
}
