// The companies referential: ICE (mod-97 checked), IF, RC with its court, CNSS, names in French and Arabic, legal form, status, address; matched on identifiers only.

import { parseCnss, parseIce, parseIf, parseRc } from '../identifiers/index.ts';
import type { MatchProfile, NaturalKey, Normalised, ReferentialModule } from '../../src/golden/module.ts';
import { batchColumns } from '../batch-columns.ts';
import { foldArabic, latinKey } from '../text/fold.ts';
import { FieldReader, identifier } from '../persons/fields.ts';

export const LEGAL_FORMS = ['SA', 'SARL', 'SARL AU', 'SNC', 'SCS', 'SCA', 'SAS', 'GIE', 'EI', 'COOPERATIVE', 'SUCCURSALE', 'ETABLISSEMENT PUBLIC'] as const;
export type LegalForm = (typeof LEGAL_FORMS)[number];
export const COMPANY_STATUSES = ['active', 'in-liquidation', 'dissolved', 'struck-off'] as const;

const LEGAL_FORM_ALIASES: Readonly<Record<string, LegalForm>> = {
  'sarlau': 'SARL AU', 'sarl a.u': 'SARL AU', 'sarl a.u.': 'SARL AU', 'sarl-au': 'SARL AU', 'société anonyme': 'SA', 'societe anonyme': 'SA',
  'société à responsabilité limitée': 'SARL', 'societe a responsabilite limitee': 'SARL', 'entreprise individuelle': 'EI', 'personne physique': 'EI',
  'coopérative': 'COOPERATIVE', 'ش.م': 'SA', 'ش.م.م': 'SARL', 'ش.ذ.م.م': 'SARL',
};

export interface CompanyAttributes extends Record<string, unknown> {
  /** 15 digits, control key verified. */
  ice?: string;
  if?: string;
  rc?: { number: string; court: string; key: string };
  cnss?: string;
  nameFr?: string;
  nameAr?: string;
  legalForm?: LegalForm;
  status?: (typeof COMPANY_STATUSES)[number];
  address?: string;
  commune?: string;
  /** YYYY-MM-DD, not in the future. */
  createdOn?: string;
}

/**
 * Survivorship: OMPIC keeps the commercial register (legal name, form, status, RC); the DGI assigns the IF and
 * checks the ICE; the CNSS knows the employer and its address of activity; e-services take what applicants type. The
 * regional offices' corrections rank below the registers and above the e-services.
 */
export const COMPANY_TRUST = {
  default: ['ompic', 'dgi', 'cnss', 'regional-offices', 'e-services'],
  attributes: {
    if: ['dgi', 'ompic', 'cnss', 'regional-offices', 'e-services'],
    cnss: ['cnss', 'dgi', 'ompic', 'regional-offices', 'e-services'],
    address: ['cnss', 'dgi', 'ompic', 'regional-offices', 'e-services'],
    commune: ['cnss', 'dgi', 'ompic', 'regional-offices', 'e-services'],
  },
} as const;

export function normaliseCompany(input: unknown): Normalised<CompanyAttributes> {
  const r = new FieldReader(input);
  const out: CompanyAttributes = {};
  const ice = r.raw('ice');
  if (ice !== undefined) {
    const parsed = identifier(r, 'ice', parseIce(ice));
    if (parsed) out.ice = parsed.value;
  }
  const ifRaw = r.raw('if');
  if (ifRaw !== undefined) {
    const parsed = identifier(r, 'if', parseIf(ifRaw));
    if (parsed) out.if = parsed;
  }
  const rcRaw = r.raw('rc');
  if (rcRaw !== undefined && (typeof rcRaw !== 'object' || Array.isArray(rcRaw))) r.fail('rc', 'an RC is an object { number, court }: the number means something only with its court');
  const rcNumber = r.raw('rc.number');
  const rcCourt = r.raw('rc.court');
  if (rcNumber !== undefined || rcCourt !== undefined) {
    const parsed = parseRc(rcNumber, rcCourt);
    if (!parsed.ok) r.fail(parsed.code === 'rc.court' ? 'rc.court' : 'rc.number', parsed.message);
    else {
      for (const w of parsed.warnings) r.warn('rc.court', w);
      out.rc = { number: parsed.value.number, court: parsed.value.court?.name ?? String(rcCourt).trim(), key: parsed.value.key };
    }
  }
  const cnss = r.raw('cnss');
  if (cnss !== undefined) {
    const parsed = identifier(r, 'cnss', parseCnss(cnss));
    if (parsed) out.cnss = parsed;
  }
  if (ice === undefined && rcNumber === undefined && ifRaw === undefined && cnss === undefined) {
    r.fail('ice', 'a company needs an identifier: ice, rc (number and court), if or cnss');
  }
  const nameFr = r.text('nameFr', 300);
  if (nameFr) out.nameFr = nameFr;
  const nameAr = r.text('nameAr', 300);
  if (nameAr) out.nameAr = nameAr;
  if (!nameFr && !nameAr && !r.problems.some((p) => p.location === 'body.nameFr' || p.location === 'body.nameAr')) {
    r.fail('nameFr', 'a company needs a name, in French (nameFr) or Arabic (nameAr)');
  }
  const legalForm = r.oneOf('legalForm', LEGAL_FORMS, LEGAL_FORM_ALIASES);
  if (legalForm) out.legalForm = legalForm;
  const status = r.oneOf('status', COMPANY_STATUSES);
  if (status) out.status = status;
  const address = r.text('address', 300);
  if (address) out.address = address;
  const commune = r.commune('commune');
  if (commune) out.commune = commune;
  const createdOn = r.date('createdOn', { past: true, min: '1900-01-01' });
  if (createdOn) out.createdOn = createdOn;
  return r.problems.length > 0 ? { ok: false, problems: r.problems } : { ok: true, attributes: out, warnings: r.warnings };
}

/** ICE first (one per establishment), then the RC key (court|number); IF and CNSS are kept as attributes only. */
export function companyNaturalKeys(attributes: CompanyAttributes): NaturalKey[] {
  const keys: NaturalKey[] = [];
  if (attributes.ice) keys.push({ type: 'ice', value: attributes.ice });
  if (attributes.rc) keys.push({ type: 'rc', value: attributes.rc.key });
  return keys;
}

/**
 * What fuzzy search reads (GET …/search): the names, the French one by its Latin key and the Arabic one folded, as
 * persons' names are, and the commune to filter on. Never a match: without a score, the engine links companies on their
 * identifiers only.
 */
export function companyMatchProfile(attributes: CompanyAttributes): MatchProfile | undefined {
  const names = [attributes.nameFr ? latinKey(attributes.nameFr) : '', attributes.nameAr ? foldArabic(attributes.nameAr) : ''].filter((n) => n !== '');
  return names.length === 0 ? undefined : { blockingText: names.join(' '), fields: { commune: attributes.commune ?? null } };
}

/** Companies match on identifiers only: names of companies are too alike (ste X sarl, X trading) to link on. */
export const companiesModule: ReferentialModule<CompanyAttributes> = {
  name: 'companies',
  normalise: normaliseCompany,
  naturalKeys: companyNaturalKeys,
  matchProfile: companyMatchProfile,
  trust: COMPANY_TRUST,
  batchColumns: batchColumns.companies,
};
