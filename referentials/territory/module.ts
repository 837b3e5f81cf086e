// The territory as a golden-record referential: one record per commune (its current HCP code, the codes it had before,
// its names), so that a renumbering is a change in the hub's feed like a company renamed, and the systems that file
// things by commune (MARROUTE's road events) receive it through a subscription. The units themselves, their hierarchy
// and the 2014→2024 crosswalk stay the bundled index (territory.ts): a record is checked against it, never trusted over it.
import type { NaturalKey, Normalised, ReferentialModule } from '../../src/golden/module.ts';
import { FieldReader } from '../persons/fields.ts';
import { territory, type Commune, type UnitKind } from './territory.ts';

export interface CommuneRecordAttributes extends Record<string, unknown> {
  /** Today's code (dotted). */
  code: string;
  /** The codes the commune had before (the 2014 census's, say), oldest first as given, without duplicates. */
  formerCodes?: string[];
  nameFr: string;
  nameAr: string;
  provinceCode: string;
  regionCode: string;
  /** The same code under the name a subscription's territory scope reads (src/sync/scope.ts communeOf). */
  commune: string;
}

/** HCP publishes the codes; the regional offices and the DGCT only relay them. */
export const TERRITORY_TRUST = { default: ['hcp', 'dgct', 'regional-offices'] } as const;

const communeCodePattern = /^\d{2}\.\d{3}\.\d{2}\.\d{1,2}$/;
const maxFormerCodes = 8;

/** formerCodes as a JSON array, or one CSV cell with the codes separated by spaces, `|` or `;`. */
function formerCodesOf(r: FieldReader): string[] | undefined {
  const raw = r.raw('formerCodes');
  if (raw === undefined) return undefined;
  const list = typeof raw === 'string' ? raw.split(/[\s|;]+/).filter(Boolean) : raw;
  if (!Array.isArray(list) || !list.every((c): c is string => typeof c === 'string')) {
    r.fail('formerCodes', 'a list of commune codes (a JSON array of strings, or codes separated by spaces in a CSV cell)');
    return undefined;
  }
  if (list.length > maxFormerCodes) {
    r.fail('formerCodes', `at most ${maxFormerCodes} former codes`);
    return undefined;
  }
  return [...new Set(list.map((c) => c.trim()))];
}

/** Checks one former code against the commune it is said to have been: the crosswalk, where it knows it, decides. */
function checkFormerCode(r: FieldReader, field: string, former: string, commune: Commune): boolean {
  if (!communeCodePattern.test(former)) return r.fail(field, `${JSON.stringify(former.slice(0, 20))} is not a dotted commune code such as 01.051.05.01`) ?? false;
  if (former === commune.code) return r.fail(field, `${former} is the commune's current code, not a former one`) ?? false;
  const resolved = territory().resolve(former);
  if (resolved.found && resolved.via === 'current') return r.fail(field, `${former} is today the code of ${resolved.unit.kind} ${resolved.unit.nameFr}: it cannot have been this commune's`) ?? false;
  if (resolved.found && resolved.unit.code !== commune.code) {
    return r.fail(field, `the 2014→2024 crosswalk maps ${former} to ${resolved.unit.code} (${resolved.unit.nameFr}), not to ${commune.code} (${commune.nameFr})`) ?? false;
  }
  // Province codes did not change in the reform: a former code elsewhere is another commune.
  if (!former.startsWith(`${commune.provinceCode}.`)) return r.fail(field, `${former} is outside province ${commune.provinceCode}, where ${commune.code} lies`) ?? false;
  if (!resolved.found) r.warn(field, `${former} is not in the bundled 2014→2024 crosswalk; taken as declared`);
  return true;
}

export function normaliseCommuneRecord(input: unknown): Normalised<CommuneRecordAttributes> {
  const r = new FieldReader(input);
  const codeRaw = r.raw('code');
  let commune: Commune | undefined;
  if (codeRaw === undefined) r.fail('code', 'required: the commune\'s current HCP code, such as 01.051.11.01');
  else if (typeof codeRaw !== 'string') r.fail('code', `a commune code is a string, not ${typeof codeRaw}`);
  else {
    const resolved = territory().resolve(codeRaw);
    if (!resolved.found) r.fail('code', resolved.message);
    else if (resolved.unit.kind !== 'commune') r.fail('code', `${codeRaw} is a ${resolved.unit.kind} code, not a commune code`);
    else if (resolved.via === 'crosswalk-2014') {
      // A stale code recorded as current would undo the renumbering for every subscriber: refused, with what to send.
      r.fail('code', `${codeRaw} is the 2014 code of ${resolved.unit.nameFr}, renumbered ${resolved.unit.code}: give the current code and list ${codeRaw} in formerCodes`);
    } else commune = resolved.unit;
  }
  const formerCodes = formerCodesOf(r);
  const nameFr = r.text('nameFr', 120);
  const nameAr = r.text('nameAr', 120);
  if (!commune) return { ok: false, problems: r.problems };
  formerCodes?.forEach((former, i) => checkFormerCode(r, `formerCodes[${i}]`, former, commune));
  if (nameFr !== undefined && nameFr !== commune.nameFr) r.warn('nameFr', `HCP names ${commune.code} ${JSON.stringify(commune.nameFr)}; kept as given`);
  if (r.problems.length > 0) return { ok: false, problems: r.problems };
  return {
    ok: true,
    warnings: r.warnings,
    attributes: {
      code: commune.code,
      ...(formerCodes && formerCodes.length > 0 ? { formerCodes } : {}),
      nameFr: nameFr ?? commune.nameFr,
      nameAr: nameAr ?? commune.nameAr,
      provinceCode: commune.provinceCode,
      regionCode: commune.regionCode,
      commune: commune.code,
    },
  };
}

/** A commune is one record by its current code. */
export function communeNaturalKeys(attributes: CommuneRecordAttributes): NaturalKey[] {
  return [{ type: 'commune', value: attributes.code }];
}

const unitKindLabels: Record<UnitKind, string> = { region: 'région', province: 'province ou préfecture', cercle: 'cercle', commune: 'commune' };

export const territoryModule: ReferentialModule<CommuneRecordAttributes> = {
  name: 'territory',
  normalise: normaliseCommuneRecord,
  naturalKeys: communeNaturalKeys,
  trust: TERRITORY_TRUST,
  batchColumns: ['code', 'formerCodes', 'nameFr', 'nameAr'],
  searchReference: (query, limit) =>
    territory()
      .search(query, { limit })
      .map(({ unit }) => ({ code: unit.code, kindLabel: unitKindLabels[unit.kind], nameFr: unit.nameFr, nameAr: unit.nameAr, population: unit.population2024 })),
};

