// The persons referential: CIN, names in Arabic and Latin script, birth date and place, sex, address, status; matched by CIN, then by score.

import { parseCin } from '../identifiers/index.ts';
import { foldArabicWords, foldNameWords, latinKey } from '../text/fold.ts';
import type { MatchProfile, NaturalKey, Normalised, ReferentialModule } from '../../src/golden/module.ts';
import { batchColumns } from '../batch-columns.ts';
import { FieldReader, identifier } from './fields.ts';
import { PERSON_THRESHOLDS, scorePersons } from './score.ts';
import { personBlockingKeys } from './blocking.ts';
import { PERSON_SEXES, PERSON_STATUSES, type PersonAttributes } from './attributes.ts';
import { readLicence } from './licence.ts';

export { PERSON_SEXES, PERSON_STATUSES, type PersonAttributes };

/**
 * Survivorship: the civil registry (état civil, and the DGSN that issues the CIN) is the authority on identity; the
 * CNSS and the driving-licence system (marroute) check a CIN at the counter; the others take what they are told.
 * Addresses are better known to the systems that post letters (CNSS, marroute) than to the civil registry. The
 * regional offices (their local corrections, adapters/regional-office/) rank below the national registers and above the
 * e-services' forms: a clerk checks a paper at the counter, a form takes what it is told.
 */
export const PERSON_TRUST = {
  default: ['civil-registry', 'dgsn', 'cnss', 'marroute', 'regional-offices', 'btp', 'infractions', 'complaints'],
  attributes: {
    address: ['cnss', 'marroute', 'civil-registry', 'dgsn', 'regional-offices', 'btp', 'infractions', 'complaints'],
    addressCommune: ['cnss', 'marroute', 'civil-registry', 'dgsn', 'regional-offices', 'btp', 'infractions', 'complaints'],
    // The points register is the infractions system's: it alone decides a suspension (docs/decisions.md §19).
    licence: ['infractions', 'marroute'],
    // A name the complaints platform's agent corrected with the citizen's CIN card in hand outranks the names the
    // infractions and BTP files copied at the roadside or from a dossier (docs/decisions.md, "agent-verified names").
    firstNameLatin: ['civil-registry', 'dgsn', 'complaints', 'cnss', 'marroute', 'regional-offices', 'btp', 'infractions'],
    lastNameLatin: ['civil-registry', 'dgsn', 'complaints', 'cnss', 'marroute', 'regional-offices', 'btp', 'infractions'],
    firstNameArabic: ['civil-registry', 'dgsn', 'complaints', 'cnss', 'marroute', 'regional-offices', 'btp', 'infractions'],
    lastNameArabic: ['civil-registry', 'dgsn', 'complaints', 'cnss', 'marroute', 'regional-offices', 'btp', 'infractions'],
  },
} as const;

const SEX_ALIASES: Readonly<Record<string, 'M' | 'F'>> = { m: 'M', f: 'F', male: 'M', female: 'F', h: 'M', homme: 'M', femme: 'F', 'ذكر': 'M', 'أنثى': 'F' };

export function normalisePerson(input: unknown): Normalised<PersonAttributes> {
  const r = new FieldReader(input);
  const out: PersonAttributes = {};
  const cinRaw = r.raw('cin');
  if (cinRaw !== undefined) {
    // An invalid CIN is dropped, the person kept (and flagged): the other fields still match it (issue 18).
    const parsed = parseCin(cinRaw);
    if (!parsed.ok) r.drop('cin', parsed.message);
    else {
      const cin = identifier(r, 'cin', parsed);
      if (cin) out.cin = cin.value;
    }
  }
  for (const field of ['firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic'] as const) {
    const value = r.text(field, 120);
    if (value !== undefined) out[field] = value;
  }
  if (!out.firstNameLatin && !out.lastNameLatin && !out.firstNameArabic && !out.lastNameArabic) {
    r.fail('lastNameLatin', 'a person needs a name, in Latin (firstNameLatin, lastNameLatin) or Arabic script (firstNameArabic, lastNameArabic)');
  }
  const birthDate = r.date('birthDate', { past: true, min: '1890-01-01' });
  if (birthDate) out.birthDate = birthDate;
  const birthCommune = r.commune('birthCommune', { dropUnknown: true });
  if (birthCommune) out.birthCommune = birthCommune;
  const birthPlace = r.text('birthPlace', 200);
  if (birthPlace) out.birthPlace = birthPlace;
  const sex = r.oneOf('sex', PERSON_SEXES, SEX_ALIASES);
  if (sex) out.sex = sex;
  const address = r.text('address', 300);
  if (address) out.address = address;
  const addressCommune = r.commune('addressCommune', { dropUnknown: true });
  if (addressCommune) out.addressCommune = addressCommune;
  const status = r.oneOf('status', PERSON_STATUSES);
  if (status) out.status = status;
  const deathDate = r.date('deathDate', { past: true, min: '1890-01-01' });
  if (deathDate) {
    out.deathDate = deathDate;
    if (status !== undefined && status !== 'deceased') r.fail('deathDate', `a death date is given but status is '${status}'`);
    else out.status = 'deceased';
    if (birthDate && deathDate < birthDate) r.fail('deathDate', `death date ${deathDate} is before birth date ${birthDate}`);
  }
  const licence = readLicence(r);
  if (licence) out.licence = licence;
  return r.problems.length > 0 ? { ok: false, problems: r.problems } : { ok: true, attributes: out, warnings: r.warnings };
}

export function personNaturalKeys(attributes: PersonAttributes): NaturalKey[] {
  if (!attributes.cin) return [];
  // The engine asks for a record's keys, then for its match profile, which holds the CIN's key too: one parse for both.
  if (attributes.cin !== lastCin.input) lastCin = { input: attributes.cin, key: cinKey(attributes.cin) };
  return lastCin.key === undefined ? [] : [{ type: 'cin', value: lastCin.key }];
}

let lastCin: { input: string; key: string | undefined } = { input: '', key: undefined };

function cinKey(input: string): string | undefined {
  const cin = parseCin(input);
  return cin.ok ? cin.value.key : undefined;
}

function joined(...parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join(' ');
}

export function personMatchProfile(attributes: PersonAttributes): MatchProfile {
  const latin = latinKey(joined(attributes.firstNameLatin, attributes.lastNameLatin));
  const arabic = foldArabicWords(joined(attributes.firstNameArabic, attributes.lastNameArabic));
  const cin = personNaturalKeys(attributes)[0]?.value ?? null;
  return {
    blockingText: joined(latin, arabic),
    fields: {
      nameLatin: latin || null,
      nameArabic: arabic || null,
      firstLatin: attributes.firstNameLatin ?? null,
      lastLatin: attributes.lastNameLatin ?? null,
      firstArabic: attributes.firstNameArabic ?? null,
      lastArabic: attributes.lastNameArabic ?? null,
      birthDate: attributes.birthDate ?? null,
      birthYear: attributes.birthDate?.slice(0, 4) ?? null,
      commune: attributes.birthCommune ?? null,
      addressCommune: attributes.addressCommune ?? null,
      address: attributes.address === undefined ? null : foldNameWords(attributes.address),
      sex: attributes.sex ?? null,
      cin,
    },
  };
}

export { personBlockingKeys };

export const personsModule: ReferentialModule<PersonAttributes> = {
  name: 'persons',
  normalise: normalisePerson,
  naturalKeys: personNaturalKeys,
  matchProfile: personMatchProfile,
  score: (a, b) => scorePersons(a, b),
  blockingKeys: personBlockingKeys,
  thresholds: PERSON_THRESHOLDS,
  trust: PERSON_TRUST,
  batchColumns: batchColumns.persons,
};
