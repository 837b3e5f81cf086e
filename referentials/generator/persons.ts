// Generated persons: one real person per index, contributed by one to three source systems with real-life variations.

import { todayIso } from '../persons/fields.ts';
import {
  arabicVariant, communeAsWritten, communeTable, dateTypo, entityId, type GeneratedEntity, pickSources,
  isoDate, randomDate, recordsWithTruth, type ScriptMode, type SourceRecord, sourceId, typo,
} from './common.ts';
import { drawFamilyName } from './family-names.ts';
import { CIN_PREFIXES, FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, type NameForms } from './names.ts';
import { Random } from './random.ts';

/** What each source system records about a person, as probabilities (see README-like notes in the summary). */
interface PersonSourceProfile {
  cin: number;
  latin: number;
  arabic: number;
  birthDate: number;
  birthCommune: number;
  sex: number;
  address: number;
  /** Chance a commune is written with its 2014 code. */
  old2014: number;
  /** Chance of a keyboard slip in the Latin name, and of a mistyped birth date. */
  nameTypo: number;
  dateTypo: number;
}

export const PERSON_SOURCES: Readonly<Record<string, PersonSourceProfile>> = {
  'civil-registry': { cin: 0.97, latin: 1, arabic: 1, birthDate: 1, birthCommune: 1, sex: 1, address: 0.5, old2014: 0, nameTypo: 0, dateTypo: 0 },
  btp: { cin: 0.85, latin: 1, arabic: 0.3, birthDate: 0.95, birthCommune: 0.4, sex: 0.7, address: 0.9, old2014: 0.3, nameTypo: 0.04, dateTypo: 0.02 },
  marroute: { cin: 0.9, latin: 1, arabic: 0.5, birthDate: 0.98, birthCommune: 0.6, sex: 0.9, address: 0.9, old2014: 0.2, nameTypo: 0.03, dateTypo: 0.01 },
  infractions: { cin: 0.7, latin: 0.95, arabic: 0.4, birthDate: 0.9, birthCommune: 0.3, sex: 0.8, address: 0.6, old2014: 0.3, nameTypo: 0.05, dateTypo: 0.02 },
  complaints: { cin: 0.5, latin: 0.6, arabic: 0.7, birthDate: 0.8, birthCommune: 0.3, sex: 0.9, address: 0.8, old2014: 0.3, nameTypo: 0.05, dateTypo: 0.03 },
};

const OTHER_SOURCES = Object.keys(PERSON_SOURCES).filter((s) => s !== 'civil-registry');

const STREETS = ['Rue Ibn Battouta', 'Avenue Mohammed V', 'Bd Zerktouni', 'Hay Salam', 'Derb Sultan', 'Rue de Fès', 'Avenue Hassan II', 'Lotissement Al Wahda', 'Douar Ouled Ali', 'Quartier Industriel'];

/** A real person: the truth every source record is drawn from. */
export interface Person {
  id: string;
  cin: string;
  sex: 'M' | 'F';
  first: NameForms;
  last: NameForms;
  /** The spelling this person uses in Latin (each source may still write another). */
  firstLatin: string;
  lastLatin: string;
  birthDate: string;
  birthCommune: string;
  addressCommune: string;
  address: string;
  deathDate: string | null;
  /**
   * A hard distinct pair with the person before it (index - 1), a different person each: `twin` (same family, birth
   * date, commune and address, another first name), `son` (same family, address and commune, born 20 to 35 years
   * later), `namesake` (a look-alike first name, M'hamed beside Mohamed, same family, date and commune).
   */
  relation?: 'twin' | 'son' | 'namesake';
}

/** Shares of persons drawn as a hard distinct pair with the previous person (see Person.relation). */
export const RELATIONS = { twin: 0.01, son: 0.02, namesake: 0.005 } as const;

/** Look-alike first names a namesake is given (by the previous person's Arabic name). */
const LOOKALIKE_OF: Readonly<Record<string, string>> = {
  'محمد': 'امحمد', 'امحمد': 'محمد', 'أحمد': 'حميد', 'حميد': 'أحمد', 'سعيد': 'سعد', 'سعد': 'سعيد', 'حسن': 'حسين', 'حسين': 'حسن',
  'كريم': 'كريمة', 'كريمة': 'كريم', 'أمين': 'أمينة', 'أمينة': 'أمين', 'رشيد': 'رشيدة', 'رشيدة': 'رشيد', 'فاطمة': 'فاطمة الزهراء', 'فاطمة الزهراء': 'فاطمة',
};

/** A unique CIN for person `index`: a bijection of the index (so never repeated) split into office letters and six digits. */
export function cinFor(seed: number, index: number): string {
  const offices = CIN_PREFIXES.length;
  const space = offices * 999_983;
  const m = (index * 611_953 + (seed % 1000) * 7_919 + 104_729) % space;
  return (CIN_PREFIXES[m % offices] ?? 'A') + String(Math.floor(m / offices) + 1).padStart(6, '0');
}

/** Person `index`: drawn on its own, or (RELATIONS) as the twin, son or namesake of person `index - 1`. */
export function person(seed: number, index: number): Person {
  const own = basePerson(seed, index);
  if (index === 0) return own;
  const r = Random.for(seed, 'person-relation', index);
  const x = r.next();
  if (x >= RELATIONS.twin + RELATIONS.son + RELATIONS.namesake) return own;
  const prev = basePerson(seed, index - 1);
  const family = { last: prev.last, lastLatin: prev.lastLatin, address: prev.address, addressCommune: prev.addressCommune, birthCommune: prev.birthCommune };
  if (x < RELATIONS.twin) {
    // Parents do not give twins one name: a twin drawn with its sibling's first name is given another of its sex.
    let first = own.first;
    let firstLatin = own.firstLatin;
    const names = own.sex === 'M' ? MALE_FIRST_NAMES : FEMALE_FIRST_NAMES;
    for (let tries = 0; first.arabic === prev.first.arabic && tries < 20; tries++) {
      first = r.pickSkewed(names);
      firstLatin = r.pickSkewed(first.latin, 1.5);
    }
    return { ...own, ...family, first, firstLatin, ...bornOn(own, prev.birthDate), relation: 'twin' };
  }
  if (x < RELATIONS.twin + RELATIONS.son) {
    const year = Math.min(Number(todayIso().slice(0, 4)) - 1, Number(prev.birthDate.slice(0, 4)) + r.int(20, 35));
    const birthDate = isoDate(year, r.int(1, 12), r.int(1, 28));
    const sonFirst = r.pickSkewed(MALE_FIRST_NAMES);
    return { ...own, ...family, sex: 'M', first: sonFirst, firstLatin: r.pickSkewed(sonFirst.latin, 1.5), birthDate, deathDate: null, relation: 'son' };
  }
  const arabic = LOOKALIKE_OF[prev.first.arabic];
  const first = [...MALE_FIRST_NAMES, ...FEMALE_FIRST_NAMES].find((n) => n.arabic === arabic);
  if (!first) return own;
  return { ...own, ...family, sex: MALE_FIRST_NAMES.includes(first) ? 'M' : 'F', first, firstLatin: r.pickSkewed(first.latin, 1.5), ...bornOn(own, prev.birthDate), relation: 'namesake' };
}

/**
 * A twin or namesake takes the birth date of the person before it, while its own death date was drawn after its own
 * birth: it may now come first (19 of 1.1M records were rejected by the import for it). The death is kept when it falls
 * in a later year than the birth (basePerson's rule, which also keeps a record's mistyped birth date, same year, before
 * it), else the person is alive: no random draw, so every other field and person stays as it was.
 */
function bornOn(own: Person, birthDate: string): Pick<Person, 'birthDate' | 'deathDate'> {
  const deathDate = own.deathDate !== null && own.deathDate.slice(0, 4) > birthDate.slice(0, 4) ? own.deathDate : null;
  return { birthDate, deathDate };
}

function basePerson(seed: number, index: number): Person {
  const r = Random.for(seed, 'person', index);
  const sex = r.chance(0.5) ? 'M' : 'F';
  const first = r.pickSkewed(sex === 'M' ? MALE_FIRST_NAMES : FEMALE_FIRST_NAMES);
  const last = drawFamilyName(r);
  const birthDate = randomDate(r, 1940, 2006);
  const { table } = communeTable();
  const birthCommune = table.pick(r).code;
  const addressCommune = r.chance(0.5) ? birthCommune : table.pick(r).code;
  const dies = r.chance(0.03);
  const deathDate = dies ? randomDate(r, Math.max(Number(birthDate.slice(0, 4)) + 1, 1990), Number(todayIso().slice(0, 4)) - 1) : null;
  return {
    id: entityId('person', index), cin: cinFor(seed, index), sex, first, last,
    firstLatin: r.pickSkewed(first.latin, 1.5), lastLatin: r.pickSkewed(last.latin, 1.5),
    birthDate, birthCommune, addressCommune, address: `${r.int(1, 250)} ${r.pick(STREETS)}`, deathDate,
  };
}

/** How one source writes a person. `duplicate` records vary more (another clerk, another form). */
export function personRecord(p: Person, source: string, r: Random, key: (string | number)[], scripts: { mode: ScriptMode; first: boolean } = { mode: 'sources', first: true }): { record: SourceRecord; variations: string[] } {
  const profile = PERSON_SOURCES[source] ?? PERSON_SOURCES.complaints;
  if (profile === undefined) throw new Error(`no profile for ${source}`);
  const variations: string[] = p.relation ? [p.relation] : [];
  if (/ /.test(p.first.arabic)) variations.push('compound-name');
  const a: Record<string, unknown> = {};
  if (r.chance(profile.cin)) {
    a.cin = r.chance(0.2) ? `${p.cin.slice(0, -6).toLowerCase()} ${p.cin.slice(-6)}` : p.cin;
  } else variations.push('no-cin');
  let latin = r.chance(profile.latin);
  let arabic = r.chance(profile.arabic);
  if (!latin && !arabic) latin = true;
  if (scripts.mode === 'both') [latin, arabic] = [true, true];
  else if (scripts.mode === 'latin') [latin, arabic] = [true, false];
  else if (scripts.mode === 'cross') [latin, arabic] = scripts.first ? [false, true] : [true, false];
  if (latin) {
    // Most clerks write the person's own spelling; some write another common one.
    let first = r.chance(0.7) ? p.firstLatin : r.pick(p.first.latin);
    let last = r.chance(0.7) ? p.lastLatin : r.pick(p.last.latin);
    if (first !== p.firstLatin || last !== p.lastLatin) variations.push('spelling');
    if (r.chance(profile.nameTypo)) {
      if (r.chance(0.5)) first = typo(r, first);
      else last = typo(r, last);
      variations.push('name-typo');
    }
    const upper = r.chance(0.3);
    a.firstNameLatin = upper ? first.toUpperCase() : first;
    a.lastNameLatin = upper ? last.toUpperCase() : last;
  } else variations.push('arabic-only');
  if (arabic) {
    a.firstNameArabic = arabicVariant(r, p.first.arabic);
    a.lastNameArabic = arabicVariant(r, p.last.arabic);
  } else if (latin) variations.push('latin-only');
  if (r.chance(profile.birthDate)) {
    if (r.chance(profile.dateTypo)) {
      const written = dateTypo(r, p.birthDate);
      a.birthDate = written;
      const swapped = written.slice(0, 4) === p.birthDate.slice(0, 4) && written.slice(5, 7) === p.birthDate.slice(8, 10) && written.slice(8, 10) === p.birthDate.slice(5, 7);
      variations.push(swapped ? 'date-swap' : 'date-typo');
    } else a.birthDate = p.birthDate;
  } else variations.push('no-birth-date');
  if (r.chance(profile.birthCommune)) a.birthCommune = communeAsWritten(r, p.birthCommune, profile.old2014);
  if (r.chance(profile.sex)) a.sex = p.sex;
  if (r.chance(profile.address)) {
    a.address = p.address;
    a.addressCommune = communeAsWritten(r, p.addressCommune, profile.old2014);
  }
  if (p.deathDate !== null && (source === 'civil-registry' || r.chance(0.3))) {
    a.status = 'deceased';
    a.deathDate = p.deathDate;
  }
  return { record: { sourceSystem: source, sourceId: sourceId(source, 'person', ...key), attributes: a }, variations };
}

/** Person `index`: its first record (the civil registry's in 70 %), and duplicates from other sources. */
export function generatePerson(seed: number, index: number, dupRate: number, scriptMode: ScriptMode = 'sources'): GeneratedEntity {
  const p = person(seed, index);
  const r = Random.for(seed, 'person-records', index);
  const sources = pickSources(r, { preferred: 'civil-registry', share: 0.7, others: OTHER_SOURCES }, dupRate);
  return recordsWithTruth('persons', p.id, sources, (source, k) => personRecord(p, source, r, [seed, index, k], { mode: scriptMode, first: k === 0 }));
}
