// The driving-licence exam appointment system's own data (issue 15 item 3), generated deterministically from a seed:
// candidates are the generator's persons (Moroccan names in both scripts, valid unique CINs, real communes), driving
// schools the generator's companies (valid ICEs), and each candidate has one request (demande) with an exam
// appointment in a centre of its commune's province, on a half-hour slot between 08:30 and 12:00.
import { company } from '../../referentials/generator/companies.ts';
import { person } from '../../referentials/generator/persons.ts';
import { Random } from '../../referentials/generator/random.ts';
import { territory } from '../../referentials/territory/territory.ts';

/** A licence candidate as the system holds it (the seed's "Candidat" screen). */
export interface Candidate {
  cin: string;
  firstNameLatin: string;
  lastNameLatin: string;
  firstNameArabic: string;
  lastNameArabic: string;
  birthDate: string;
  /** Today's code of the commune of residence. */
  commune: string;
  /** open, or closed (deceased: no more appointments). */
  state: 'open' | 'closed';
  deathDate?: string;
}

/** A driving school (auto-école) and its agent number with the ministry. */
export interface DrivingSchool {
  agentNumber: string;
  name: string;
  nameAr: string;
  ice: string;
  commune: string;
}

/** The kinds of request (usages) a candidate files. */
export const requestUses = ['first-issue', 'category-extension', 'renewal', 're-registration'] as const;
export type RequestUse = (typeof requestUses)[number];

/** The exam's themes. */
export const examThemes = ['theory', 'practical'] as const;

/** A request (demande) and its exam appointment. */
export interface LicenceRequest {
  /** `98959-44870-483`: 5, 5 and 3 digits. */
  number: string;
  cin: string;
  schoolAgentNumber: string;
  use: RequestUse;
  category: 'A' | 'B' | 'C' | 'D' | 'EC';
  state: 'Déposée' | 'Validée' | 'Annulée';
  queueNumber: number;
  centre: string;
  /** YYYY-MM-DD. */
  date: string;
  /** HH:MM, one of examSlots. */
  slot: string;
  testState: 'Prévu';
  examStatus: 'Passé' | 'Non passé';
  theme: (typeof examThemes)[number];
}

/** An exam centre: one per province that has candidates. */
export interface ExamCentre {
  code: string;
  province: string;
  name: string;
  /** Candidates examined per slot. */
  capacity: number;
}

/** The half-hour slots a centre examines in: 08:30 to 12:00 (the last starts at 11:30). */
export const examSlots: readonly string[] = ['08:30', '09:00', '09:30', '10:00', '10:30', '11:00', '11:30'];

export interface PermisData {
  candidates: Candidate[];
  schools: DrivingSchool[];
  requests: LicenceRequest[];
  centres: ExamCentre[];
}

/** The year the generated appointments fall in (fixed, so the statistics never depend on the clock). */
export const dataYear = 2026;

export const centreCode = (province: string): string => `CE-${province.replace('.', '-')}`;

function requestNumber(r: Random): string {
  return `${r.int(10_000, 99_999)}-${r.int(10_000, 99_999)}-${r.int(100, 999)}`;
}

function isoDay(month: number, day: number): string {
  return `${dataYear}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** `candidates` persons, `schools` schools, one request each; the same seed always gives the same data. */
export function generatePermisData(options: { seed: number; candidates: number; schools: number }): PermisData {
  const places = territory();
  const schools: DrivingSchool[] = [];
  for (let i = 0; i < options.schools; i++) {
    const c = company(options.seed, 10_000 + i);
    schools.push({ agentNumber: `AE-${String(1000 + i)}`, name: `Auto-école ${c.nameFr}`, nameAr: `مدرسة تعليم السياقة ${c.nameAr}`, ice: c.ice, commune: c.commune });
  }
  const candidates: Candidate[] = [];
  const requests: LicenceRequest[] = [];
  const centres = new Map<string, ExamCentre>();
  const numbers = new Set<string>();
  for (let i = 0; i < options.candidates; i++) {
    const p = person(options.seed, i);
    candidates.push({
      cin: p.cin, firstNameLatin: p.firstLatin, lastNameLatin: p.lastLatin, firstNameArabic: p.first.arabic, lastNameArabic: p.last.arabic,
      birthDate: p.birthDate, commune: p.addressCommune, state: 'open',
    });
    const province = places.unit(p.addressCommune)?.kind === 'commune' ? (places.unit(p.addressCommune) as { provinceCode: string }).provinceCode : p.addressCommune.slice(0, 6);
    const code = centreCode(province);
    if (!centres.has(code)) centres.set(code, { code, province, name: `Centre d'examen ${places.unit(province)?.nameFr ?? province}`, capacity: 4 });
    const r = Random.for(options.seed, 'permis-request', i);
    let number = requestNumber(r);
    while (numbers.has(number)) number = requestNumber(r);
    numbers.add(number);
    const month = r.int(1, 12);
    const date = isoDay(month, r.int(1, 28));
    requests.push({
      number, cin: p.cin, schoolAgentNumber: (schools[r.int(0, Math.max(0, schools.length - 1))] as DrivingSchool).agentNumber,
      use: r.pickWeighted(requestUses, [60, 15, 20, 5]), category: r.pickWeighted(['A', 'B', 'C', 'D', 'EC'] as const, [10, 70, 10, 5, 5]),
      state: 'Validée', queueNumber: i + 1, centre: code, date, slot: r.pick(examSlots), testState: 'Prévu',
      examStatus: r.chance(0.6) ? 'Passé' : 'Non passé', theme: r.pick(examThemes),
    });
  }
  return { candidates, schools, requests, centres: [...centres.values()].sort((a, b) => a.code.localeCompare(b.code)) };
}
