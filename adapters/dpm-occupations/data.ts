// The maritime public-domain occupation system's own data (issue 16 item 3), generated deterministically from a seed:
// temporary occupation permits (autorisations d'occupation temporaire, AOT) of the maritime public domain (DPM) in
// real coastal communes, each held by a company or a person, with its projects and their progress (the seed's
// "Entreprise Projet Management" table: description, date, progress %). Company holders include BTP platform companies
// (the same ICE and name: the permits were filed with their qualification certificate); persons come from the
// referentials' generator. And the odd records a real register holds: a holder without any identifier, one known only
// by its Arabic name, a permit filed under a 2014 commune code, one company filed twice under two spellings.
import { companiesByIce, demoIces } from '../btp-qualification/data.ts';
import { company } from '../../referentials/generator/companies.ts';
import { person } from '../../referentials/generator/persons.ts';
import { Random } from '../../referentials/generator/random.ts';

export interface CompanyHolder {
  kind: 'company';
  /** The system's own holder number. */
  ref: string;
  /** Missing on some old files (a cooperative registered before the ICE existed). */
  ice?: string;
  raisonSociale: string;
  raisonSocialeAr?: string;
  /** What the hub last said of the company: struck off the trade register, or not. */
  radiee: boolean;
}

export interface PersonHolder {
  kind: 'person';
  ref: string;
  cin?: string;
  nomLatin?: string;
  prenomLatin?: string;
  nomArabe: string;
  prenomArabe: string;
  dateNaissance?: string;
  decede: boolean;
}

export type Holder = CompanyHolder | PersonHolder;

/** One line of a permit's project table, as the seed shows it. */
export interface Project {
  description: string;
  /** YYYY-MM-DD. */
  date: string;
  /** 0 to 100. */
  progress: number;
}

export const permitStates = ['EN_VIGUEUR', 'EXPIREE', 'RESILIEE'] as const;
export type PermitState = (typeof permitStates)[number];
/** Flags the hub's changes raise on a permit: its holder struck off the trade register, or deceased. */
export const permitFlags = ['TITULAIRE_RADIE', 'TITULAIRE_DECEDE'] as const;
export type PermitFlag = (typeof permitFlags)[number];

export interface Permit {
  /** AOT-DPM-<year>-<nnnn>. */
  number: string;
  holderRef: string;
  /** The commune code as the permit was filed (a 2014 code on an old file). */
  commune: string;
  usage: string;
  surfaceM2: number;
  /** YYYY-MM-DD. */
  startDate: string;
  endDate: string;
  /** Annual fee (redevance), MAD. */
  annualFeeMad: number;
  state: PermitState;
  flags: PermitFlag[];
  projects: Project[];
}

export interface DpmData {
  holders: Holder[];
  permits: Permit[];
}

// Coastal communes of the Atlantic and Mediterranean seaboards. Codes and names: Haut-Commissariat au Plan, RGPH 2024
// (shared/data/territory/communes.csv). One is written as its 2014 code, as an old permit file has it.
export const coastalCommunes = [
  { code: '01.511.01.0', name: 'Tanger' }, { code: '01.573.01.05', name: "M'diq" }, { code: '01.573.01.03', name: 'Martil' },
  { code: '01.331.01.03', name: 'Larache' }, { code: '01.051.01.01', name: 'Al Hoceima' }, { code: '02.381.01.05', name: 'Nador' },
  { code: '04.281.01.01', name: 'Kénitra' }, { code: '04.421.01.0', name: 'Rabat' }, { code: '04.441.01.0', name: 'Salé' },
  { code: '04.501.01.05', name: 'Skhirate' }, { code: '06.111.01.03', name: 'Bouznika' }, { code: '06.141.01.0', name: 'Casablanca' },
  { code: '06.181.01.03', name: 'El Jadida' }, { code: '07.431.01.03', name: 'Safi' }, { code: '07.211.01.05', name: 'Essaouira' },
  { code: '09.001.01.01', name: 'Agadir' }, { code: '10.473.01.03', name: 'Sidi Ifni' }, { code: '11.321.01.03', name: 'Laâyoune' },
  { code: '12.391.01.01', name: 'Dakhla' },
] as const;
/** Ait Kamra (Al Hoceima) as an old permit file has it: its 2014 code, 01.051.11.01 since 2024. */
export const staleCommune = { code2014: '01.051.05.01', code2024: '01.051.11.01', name: 'Ait Kamra' } as const;

const usages = [
  ['Kiosque de plage', 40, 120], ['Terrasse de restaurant', 80, 400], ['Chantier naval', 800, 6000], ['Ferme aquacole', 5000, 40000],
  ['Cale de halage', 150, 900], ['Dépôt de matériel de pêche', 60, 300], ['Base nautique', 300, 2500], ['Travaux de protection du littoral', 1000, 12000],
] as const;

/** The BTP platform's companies that hold permits (maritime and hydraulic works); the first is the demo's. */
export const btpHolderIces = [demoIces.qualified, demoIces.topClass, demoIces.suspended] as const;

const holderRef = (i: number): string => `T-${String(i + 1).padStart(5, '0')}`;
const dmy = (iso: string): string => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
const isoDay = (y: number, m: number, d: number): string => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

function holders(seed: number, persons: number, others: number): Holder[] {
  const out: Holder[] = [];
  for (const ice of btpHolderIces) {
    const c = companiesByIce.get(ice);
    if (!c) throw new RangeError(`the BTP platform has no company ${ice}`);
    out.push({ kind: 'company', ref: holderRef(out.length), ice, raisonSociale: c.profile.raisonSociale, ...(c.profile.raisonSocialeAr ? { raisonSocialeAr: c.profile.raisonSocialeAr } : {}), radiee: false });
  }
  for (let i = 0; i < others; i++) {
    const c = company(seed, 20_000 + i);
    out.push({ kind: 'company', ref: holderRef(out.length), ice: c.ice, raisonSociale: c.nameFr, raisonSocialeAr: c.nameAr, radiee: false });
  }
  for (let i = 0; i < persons; i++) {
    const p = person(seed, 30_000 + i);
    out.push({ kind: 'person', ref: holderRef(out.length), cin: p.cin, nomLatin: p.lastLatin, prenomLatin: p.firstLatin, nomArabe: p.last.arabic, prenomArabe: p.first.arabic, dateNaissance: p.birthDate, decede: false });
  }
  // The odd ones. A fishermen's cooperative filed before the ICE: no identifier at all (the hub refuses it, with the reason).
  out.push({ kind: 'company', ref: holderRef(out.length), raisonSociale: 'Coopérative de pêche artisanale Al Amal', raisonSocialeAr: 'تعاونية الأمل للصيد التقليدي', radiee: false });
  // A person known by the Arabic names on the card only (no Latin transliteration typed in).
  const arabicOnly = person(seed, 39_999);
  out.push({ kind: 'person', ref: holderRef(out.length), cin: arabicOnly.cin, nomArabe: arabicOnly.last.arabic, prenomArabe: arabicOnly.first.arabic, decede: false });
  // The same company filed twice, under two spellings (one ICE: the hub ties both to one golden record).
  const twice = company(seed, 20_000);
  out.push({ kind: 'company', ref: holderRef(out.length), ice: twice.ice, raisonSociale: twice.nameFr.toUpperCase().normalize('NFD').replace(/\p{M}/gu, ''), radiee: false });
  return out;
}

function projectsOf(r: Random, holder: Holder, start: string, end: string, today: string): Project[] {
  const short = holder.kind === 'company' ? holder.raisonSociale.split(' ').slice(0, 2).join(' ') : `${holder.prenomLatin ?? holder.prenomArabe} ${holder.nomLatin ?? holder.nomArabe}`;
  const first = Number(start.slice(0, 4));
  const last = Math.min(Number(end.slice(0, 4)), Number(today.slice(0, 4)));
  const count = r.int(1, 5);
  const out: Project[] = [];
  for (let k = 0; k < count; k++) {
    const date = isoDay(r.int(first, Math.max(first, last)), r.int(1, 12), r.int(1, 28));
    // Works finished long ago are at 100 %, as in the seed's table; the recent ones are under way.
    const progress = date < `${Number(today.slice(0, 4)) - 1}${today.slice(4)}` ? 100 : r.pick([10, 25, 40, 60, 75, 90]);
    out.push({ description: `Projet ${short} ${dmy(date)}`, date, progress });
  }
  return out.sort((a, b) => a.date.localeCompare(b.date));
}

/** `permits` permits over the holders (every holder at least one); the same seed always gives the same data. */
export function generateDpmData(options: { seed: number; permits?: number; persons?: number; companies?: number; today?: string }): DpmData {
  const today = options.today ?? '2026-06-30';
  const held = holders(options.seed, options.persons ?? 12, options.companies ?? 8);
  const total = Math.max(options.permits ?? 40, held.length);
  const permits: Permit[] = [];
  const counters = new Map<number, number>();
  for (let i = 0; i < total; i++) {
    const r = Random.for(options.seed, 'dpm-permit', i);
    const holder = held[i < held.length ? i : r.int(0, held.length - 1)] as Holder;
    const [usage, minSurface, maxSurface] = r.pick(usages);
    const year = r.int(2012, 2025);
    const start = isoDay(year, r.int(1, 12), 1);
    const years = r.pick([3, 5, 5, 10]);
    const end = isoDay(year + years, Number(start.slice(5, 7)), 1);
    const surfaceM2 = r.int(minSurface, maxSurface);
    const n = (counters.get(year) ?? 0) + 1;
    counters.set(year, n);
    // The second permit is an old file of Ait Kamra under the commune's 2014 code.
    const commune = i === 1 ? staleCommune.code2014 : r.pick(coastalCommunes).code;
    permits.push({
      number: `AOT-DPM-${year}-${String(n).padStart(4, '0')}`, holderRef: holder.ref, commune, usage, surfaceM2,
      startDate: start, endDate: end,
      // The fee is per m² and year, by use (a simplified tariff, not the ministry's schedule).
      annualFeeMad: surfaceM2 * (usage === 'Ferme aquacole' ? 2 : usage === 'Terrasse de restaurant' || usage === 'Kiosque de plage' ? 60 : 15),
      state: end < today ? 'EXPIREE' : r.chance(0.05) ? 'RESILIEE' : 'EN_VIGUEUR',
      flags: [],
      projects: projectsOf(r, holder, start, end, today),
    });
  }
  return { holders: held, permits };
}
