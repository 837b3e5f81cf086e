// A golden record as a pure function of its linked sources (invariant 1): survivorship, match profile, natural and
// blocking keys, and the JSON text a new record is written as. Reads the links and source records; writes nothing.
import type { Queryable } from '../storage/db.ts';
import type { NaturalKey, ReferentialModule } from './module.ts';
import { hiddenArray, selectByPairs } from './pairs.ts';
import { plainValues, survive, type SurvivorshipSource } from './engine-survivorship.ts';
import type { GoldenAttributes } from './engine-types.ts';
import { jsonRow } from './json-rows.ts';

export type SourceRow = SurvivorshipSource & { version: number };

/** The linked source records of each golden record, in a fixed order (system, id). */
export async function linkedSourcesOf(tx: Queryable, referential: string, goldenIds: readonly string[]): Promise<Map<string, SourceRow[]>> {
  const out = new Map<string, SourceRow[]>(goldenIds.map((id) => [id, []]));
  if (goldenIds.length === 0) return out;
  // Two index lookups joined here rather than a join the planner may turn into a scan of millions of source records.
  const { rows: links } = await tx.query<{ golden_id: string; source_system: string; source_id: string }>(
    `SELECT golden_id, source_system, source_id FROM ref_links WHERE referential = $1 AND golden_id = ANY(${hiddenArray(2)})`,
    [referential, JSON.stringify(goldenIds)],
  );
  if (links.length === 0) return out;
  const rows = await selectByPairs<{ source_system: string; source_id: string; version: number; attributes: Record<string, unknown>; received_at: Date }>(
    tx,
    'SELECT source_system, source_id, version, attributes, received_at FROM ref_source_records WHERE referential = $1',
    referential,
    'source_system',
    'source_id',
    links.map((l) => [l.source_system, l.source_id] as const),
  );
  const source = new Map(rows.map((r) => [`${r.source_system}\u0000${r.source_id}`, r]));
  links.sort((a, b) => (a.golden_id < b.golden_id ? -1 : a.golden_id > b.golden_id ? 1 : a.source_system < b.source_system ? -1 : a.source_system > b.source_system ? 1 : a.source_id < b.source_id ? -1 : a.source_id > b.source_id ? 1 : 0));
  for (const l of links) {
    const r = source.get(`${l.source_system}\u0000${l.source_id}`);
    if (r) out.get(l.golden_id)?.push({ system: r.source_system, id: r.source_id, version: r.version, attributes: r.attributes, receivedAt: new Date(r.received_at) });
  }
  return out;
}

export interface ComputedGolden {
  attributes: GoldenAttributes;
  blockingText: string | null;
  fields: Record<string, string | null> | null;
  keys: NaturalKey[];
  /** Blocking keys the record is found under: the union over its sources (a variant spelt by one source still finds it). */
  blockingKeys: string[];
  links: Array<{ system: string; id: string; version: number }>;
}

/** A golden record made by insertGoldens: its keys, and the rest as the JSON text goldenRowJson gives, in UTF-8. */
export interface NewGolden {
  goldenId: string;
  keys: NaturalKey[];
  blockingKeys: string[];
  row: Buffer;
}

type RowProfile = { blockingText: string | null; fields: Record<string, string | null> | null } | undefined;

/**
 * A new golden record as insertGoldens sends it, all but its id:
 * `{"attributes":…,"attribute_values":…,"blocking_text":…,"match_fields":…,"blocking_keys":[…],"links":…}`.
 */
function goldenRowJson(attributes: GoldenAttributes, profile: RowProfile, blockingKeys: readonly string[], links: ComputedGolden['links']): string {
  return goldenRowJsonOf({ attributes: JSON.stringify(attributes), values: valuesJson(attributes) }, profile, blockingKeys, links);
}

/**
 * goldenRowJson with the attributes and their values serialised already (surviveOneJson). `blockingKeys`: the keys the
 * record is written under in ref_blocking_keys, distinct and sorted (ref_golden.blocking_keys, migration 0022).
 */
export function goldenRowJsonOf(texts: { attributes: string; values: string }, profile: RowProfile, blockingKeys: readonly string[], links: ComputedGolden['links']): string {
  return `{"attributes":${texts.attributes},"attribute_values":${texts.values},"blocking_text":${JSON.stringify(profile?.blockingText ?? null)},"match_fields":${JSON.stringify(profile?.fields ?? null)},"blocking_keys":${JSON.stringify(blockingKeys)},"links":${JSON.stringify(links)}}`;
}

/** A record's blocking keys as stored: each once, sorted (the order ref_golden.blocking_keys holds them in). */
export const storedBlockingKeys = (keys: Iterable<string>): string[] => [...new Set(keys)].sort();

/** ref_golden.attribute_values: each attribute's value alone, what a consumer reads unless it asks for provenance. */
export const valuesJson = (attributes: GoldenAttributes): string => JSON.stringify(plainValues(attributes));

export function newGolden(goldenId: string, computed: ComputedGolden): NewGolden {
  return { goldenId, keys: computed.keys, blockingKeys: computed.blockingKeys, row: jsonRow(goldenRowJson(computed.attributes, computed, computed.blockingKeys, computed.links)) };
}

/** A golden record as a pure function of its linked sources (invariant 1). */
export function computeFromSources(module: ReferentialModule, sources: readonly SourceRow[]): ComputedGolden {
  const attributes = survive(sources, module.trust);
  const plain = plainValues(attributes);
  const profile = sources.length > 0 ? module.matchProfile?.(plain) : undefined;
  const keyMap = new Map<string, NaturalKey>();
  const blocking = new Set<string>();
  for (const s of sources) {
    for (const k of module.naturalKeys(s.attributes)) keyMap.set(`${k.type}\u0000${k.value}`, k);
    if (module.blockingKeys) for (const k of module.blockingKeys(s.attributes).index) blocking.add(k);
  }
  if (module.blockingKeys && sources.length > 0) for (const k of module.blockingKeys(plain).index) blocking.add(k);
  return {
    attributes,
    blockingText: profile?.blockingText ?? null,
    fields: profile?.fields ?? null,
    keys: [...keyMap.values()],
    blockingKeys: storedBlockingKeys(blocking),
    links: sources.map((s) => ({ system: s.system, id: s.id, version: s.version })),
  };
}

/** Recomputes a golden record from scratch, out of its links (invariant 1). */
export async function computeGolden(tx: Queryable, module: ReferentialModule, goldenId: string): Promise<ComputedGolden> {
  return computeFromSources(module, (await linkedSourcesOf(tx, module.name, [goldenId])).get(goldenId) ?? []);
}
