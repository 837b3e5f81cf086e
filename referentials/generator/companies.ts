// Generated companies: valid ICEs, IF, RC with its court, CNSS, French and Arabic names, legal form, status; contributed by several sources.

import { makeIce, rcCourts } from '../identifiers/index.ts';
import type { LEGAL_FORMS } from '../companies/module.ts';
import { communeTable, entityId, type GeneratedEntity, pickSources, randomDate, recordsWithTruth, type SourceRecord, sourceId } from './common.ts';
import { COMPANY_ACTIVITIES, COMPANY_ROOTS, LAST_NAMES } from './names.ts';
import { Random } from './random.ts';

export const COMPANY_SOURCES = ['ompic', 'dgi', 'cnss', 'e-services'] as const;

export interface Company {
  id: string;
  ice: string;
  ifNumber: string;
  cnss: string;
  rcNumber: string;
  rcCourt: string;
  nameFr: string;
  nameAr: string;
  legalForm: (typeof LEGAL_FORMS)[number];
  status: 'active' | 'in-liquidation' | 'dissolved' | 'struck-off';
  commune: string;
  address: string;
  createdOn: string;
}

/** A unique valid ICE for company `index` (company part by index, so never repeated; control key by mod 97). */
export function iceFor(seed: number, index: number): string {
  const company = 1_000_000 + index * 3 + (seed % 3);
  return makeIce(String(company).padStart(9, '0'));
}

/**
 * A register number unique to the company (a bijection of the index below the prime 999,983): a court numbers its
 * register sequentially, so two companies never share (court, number). Random numbers did, once companies ran into
 * the hundreds of thousands, and the shared RC key linked different companies (precision 0.85 at 200,000).
 */
export function rcNumberFor(seed: number, index: number): string {
  return String(((index * 104_729 + (seed % 1000) * 7_919) % 999_983) + 1);
}

export function company(seed: number, index: number): Company {
  const r = Random.for(seed, 'company', index);
  const [rootFr, rootAr] = r.pick(COMPANY_ROOTS);
  const [activityFr, activityAr] = r.pick(COMPANY_ACTIVITIES);
  const family = r.chance(0.3) ? r.pick(LAST_NAMES) : undefined;
  const nameFr = family ? `Ets ${family.latin[0] ?? ''} ${activityFr}` : `${rootFr} ${activityFr}`;
  const nameAr = family ? `مؤسسة ${family.arabic} ${activityAr}` : `شركة ${rootAr} ${activityAr}`;
  const legalForm = family ? r.pick(['EI', 'SARL AU'] as const) : r.pickSkewed(['SARL', 'SARL AU', 'SA', 'SNC', 'SAS', 'GIE', 'COOPERATIVE'] as const);
  const court = r.pickSkewed(rcCourts.filter((c) => c.kind === 'commerce'), 0.7);
  return {
    id: entityId('company', index), ice: iceFor(seed, index),
    ifNumber: String(r.int(1_000_000, 59_999_999)).padStart(8, '0'), cnss: String(r.int(1_000_000, 9_999_999)),
    rcNumber: rcNumberFor(seed, index), rcCourt: court.name, nameFr, nameAr, legalForm,
    status: r.pickWeighted(['active', 'in-liquidation', 'dissolved', 'struck-off'] as const, [90, 3, 4, 3]),
    commune: communeTable().table.pick(r).code, address: `${r.int(1, 300)} Zone industrielle lot ${r.int(1, 99)}`,
    createdOn: randomDate(r, 1960, 2024),
  };
}

/** How each source writes a company: e-services often lack the ICE; names drift (STE …, capitals, no accents). */
function companyRecord(c: Company, source: string, r: Random, key: (string | number)[]): { record: SourceRecord; variations: string[] } {
  const variations: string[] = [];
  const a: Record<string, unknown> = {};
  if (source !== 'e-services' || r.chance(0.7)) a.ice = r.chance(0.2) ? `${c.ice.slice(0, 3)} ${c.ice.slice(3, 9)} ${c.ice.slice(9)}` : c.ice;
  else variations.push('no-ice');
  if (source === 'ompic' || a.ice === undefined || r.chance(0.6)) a.rc = { number: c.rcNumber, court: r.chance(0.3) ? `Tribunal de commerce de ${c.rcCourt}` : c.rcCourt };
  if (source === 'dgi' || r.chance(0.4)) a.if = c.ifNumber;
  if (source === 'cnss' || r.chance(0.3)) a.cnss = c.cnss;
  const arabicOnly = source !== 'ompic' && r.chance(0.1);
  if (!arabicOnly) {
    const style = r.int(0, 3);
    a.nameFr = style === 0 ? c.nameFr : style === 1 ? `STE ${c.nameFr.toUpperCase()}` : style === 2 ? `${c.nameFr} ${c.legalForm}` : c.nameFr.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase();
    if (style !== 0) variations.push('name-style');
  } else variations.push('arabic-only');
  if (source === 'ompic' || arabicOnly || r.chance(0.5)) a.nameAr = c.nameAr;
  a.legalForm = c.legalForm;
  if (source === 'ompic' || r.chance(0.5)) a.status = c.status;
  a.address = c.address;
  a.commune = c.commune;
  if (source === 'ompic') a.createdOn = c.createdOn;
  return { record: { sourceSystem: source, sourceId: sourceId(source, 'company', ...key), attributes: a }, variations };
}

/** Company `index`: its first record (OMPIC's in half the cases, or more), and duplicates from any source. */
export function generateCompany(seed: number, index: number, dupRate: number): GeneratedEntity {
  const c = company(seed, index);
  const r = Random.for(seed, 'company-records', index);
  const sources = pickSources(r, { preferred: 'ompic', share: 0.5, others: COMPANY_SOURCES }, dupRate);
  return recordsWithTruth('companies', c.id, sources, (source, k) => companyRecord(c, source, r, [seed, index, k]));
}
