// What a referential (persons, companies, vehicles…) plugs into the golden-record engine: validation and
// normalisation, strong identifiers, fuzzy-matching profile and score, survivorship, the columns of its batches. A fifth
// referential is one more module under referentials/, in the list a hub is given (HubParts.referentials, read through
// a ReferentialCatalog: src/golden/catalog.ts); the engine never names a referential.

export interface FieldProblem {
  /** `body.ice`, `body.birthDate`… (the contribution's field at fault). */
  location: string;
  message: string;
}

/** A strong identifier: deterministic matching and reads by natural key (a CIN, an ICE, a plate key, a VIN). */
export interface NaturalKey {
  type: string;
  value: string;
}

export type Normalised<Attrs> = { ok: true; attributes: Attrs; warnings: string[] } | { ok: false; problems: FieldProblem[] };

/** What fuzzy matching compares: a text to block candidates on (pg_trgm over the folded name) and fields to score. */
export interface MatchProfile {
  blockingText: string;
  fields: Record<string, string | null>;
}

export interface BlockingKeys {
  index: string[];
  probe: string[];
}

export interface MatchScore {
  /** Sum of log-likelihood weights (Fellegi–Sunter): positive for agreement, negative for disagreement. */
  score: number;
  weights: Record<string, number>;
  /**
   * The pair's one doubtful field (a birth date one slip away, a look-alike first name) and what it would score had
   * that field agreed: one at or above link puts the pair in review whatever its score (src/golden/tie.ts).
   */
  uncertain?: { field: string; scoreIfAgreeing: number };
}

export interface ReferentialModule<Attrs extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  /** Validates and normalises a contribution's attributes; every field at fault is named. */
  normalise(input: unknown): Normalised<Attrs>;
  naturalKeys(attributes: Attrs): NaturalKey[];
  /**
   * The blocking text fuzzy search reads and the fields a score compares. Absent: nothing to search by name. Without
   * `score`, the referential matches on natural keys only (the profile serves search alone).
   */
  matchProfile?(attributes: Attrs): MatchProfile | undefined;
  score?(a: MatchProfile['fields'], b: MatchProfile['fields']): MatchScore;
  /**
   * Blocking for fuzzy matching, equality-joined in Postgres (one indexed lookup per key, so it scales to millions):
   * `index` are the keys a golden record is found under (the union over its linked sources), `probe` the keys a
   * contribution looks candidates up by. Two records that can score at or above `review` should share a key.
   */
  blockingKeys?(attributes: Attrs): BlockingKeys;
  /** Score at or above `link`: linked automatically; at or above `review`: sent to review; below: kept distinct. */
  thresholds?: { link: number; review: number };
  /** Survivorship: source systems in trust order (most trusted first), per attribute or by default; then recency. */
  trust: { default: readonly string[]; attributes?: Readonly<Record<string, readonly string[]>> };
  /**
   * The CSV columns a batch upload may carry besides sourceId: attribute names, nested ones in dot notation
   * (`rc.number`). Absent: a CSV header is checked for sourceId and duplicates only.
   */
  batchColumns?: readonly string[];
  /**
   * A referential whose units are reference data the hub ships (the territory: regions to communes, HCP's codes)
   * searches them here, by name in either script or by code, nearest first. The console's search page uses it
   * where a referential has no name matching of its own.
   */
  searchReference?(query: string, limit: number): ReferenceUnit[];
}

/** A unit of shipped reference data as a search shows it. */
export interface ReferenceUnit {
  code: string;
  /** The unit's level, in French (`région`, `commune`…). */
  kindLabel: string;
  nameFr: string;
  nameAr?: string;
  population?: number;
}
