// The complaints platform's own data (issue 16 item 1), generated deterministically from a seed. The seed document
// gives one figure, "Répartition ou classement 3661 réclamations": the platform holds exactly 3,661 complaints, and
// their split by category and by status is fixed below (exact counts, not draws), so that the statistics the ministry
// receives always add up to the seed's total. Communes are drawn by population among the real 2024 communes;
// complainants are the generator's persons and companies (names in both scripts, valid CINs and ICEs), with the odd
// records a counter-and-telephone platform holds: no CIN (a call), no ICE, an Arabic-only name, a 2014 commune code,
// one person filed twice under two complainant ids.
import { communeAsWritten, communeTable } from '../../referentials/generator/common.ts';
import { company } from '../../referentials/generator/companies.ts';
import { person } from '../../referentials/generator/persons.ts';
import { Random } from '../../referentials/generator/random.ts';

/** The seed's total. */
export const seedComplaintTotal = 3661;

/** Complaint categories of the ministry's platform, with how many of the 3,661 fall in each. */
export const categories = {
  'routes-ouvrages': { label: "Routes et ouvrages d'art", service: 'DR', count: 1098 },
  'transport-routier': { label: 'Transport routier de voyageurs et de marchandises', service: 'DTRSR', count: 732 },
  'permis-conduire': { label: 'Permis de conduire et examens', service: 'DTRSR', count: 586 },
  'immatriculation': { label: 'Immatriculation et cartes grises', service: 'DTRSR', count: 439 },
  'marches-btp': { label: 'Marchés publics et qualification des entreprises BTP', service: 'DAF', count: 256 },
  'domaine-public': { label: 'Domaine public maritime et hydraulique', service: 'DPDPM', count: 183 },
  'ports-marine': { label: 'Ports et marine marchande', service: 'DMM', count: 147 },
  'autre': { label: 'Autre (accueil, délais, information)', service: 'BO', count: 220 },
} as const;
export type Category = keyof typeof categories;
export const categoryCodes = Object.keys(categories) as Category[];

/** The services a complaint is assigned to (the category's, by default). */
export const services = {
  DR: 'Direction des Routes',
  DTRSR: 'Direction des Transports Routiers et de la Sécurité Routière',
  DAF: 'Direction des Affaires Administratives et Financières',
  DPDPM: 'Direction des Ports et du Domaine Public Maritime',
  DMM: 'Direction de la Marine Marchande',
  BO: "Bureau d'ordre central",
} as const;
export type ServiceCode = keyof typeof services;

/** A complaint's statuses, with how many of the 3,661 are in each, and the moves allowed from each. */
export const statuses = {
  'deposee': { label: 'Déposée', count: 110, next: ['en-cours', 'rejetee'] },
  'en-cours': { label: 'En cours de traitement', count: 622, next: ['en-attente-complement', 'traitee', 'rejetee'] },
  'en-attente-complement': { label: 'En attente de complément du réclamant', count: 146, next: ['en-cours'] },
  // A complainant not satisfied with the answer has it reopened: the status goes back to en-cours.
  'traitee': { label: 'Traitée (réponse envoyée)', count: 549, next: ['cloturee', 'en-cours'] },
  'cloturee': { label: 'Clôturée', count: 2124, next: [] },
  'rejetee': { label: 'Rejetée (irrecevable)', count: 110, next: [] },
} as const satisfies Record<string, { label: string; count: number; next: readonly string[] }>;
export type Status = keyof typeof statuses;
export const statusCodes = Object.keys(statuses) as Status[];

export const channels = ['portail', 'chikaya.ma', 'bureau-ordre', 'telephone', 'courriel'] as const;
export type Channel = (typeof channels)[number];

/** Days the administration has to answer (décret n° 2-17-265 du 23 juin 2017 on complaints: sixty days). */
export const answerDays = 60;

/** Who complains: a person (CIN optional: a call gives none) or a company (ICE optional). */
export type Complainant =
  | {
      id: string;
      kind: 'person';
      cin: string | null;
      firstNameLatin: string | null;
      lastNameLatin: string | null;
      firstNameArabic: string | null;
      lastNameArabic: string | null;
      /** As written at filing: a 2014 code sometimes. */
      commune: string;
      phone: string | null;
    }
  | { id: string; kind: 'company'; ice: string | null; nameFr: string | null; nameAr: string | null; commune: string; phone: string | null };

/** One status a complaint went through. */
export interface StatusEntry {
  status: Status;
  /** ISO date-time. */
  at: string;
  service: ServiceCode | null;
  note?: string;
}

export interface Complaint {
  /** `REC-2019-000123`: the tracking number given at filing. */
  number: string;
  /** The secret the complainant follows it with (with the number). */
  accessCode: string;
  complainantId: string;
  subject: string;
  category: Category;
  channel: Channel;
  /** Today's code of the commune it concerns. */
  commune: string;
  description: string;
  status: Status;
  service: ServiceCode | null;
  submittedAt: string;
  /** submittedAt + answerDays (a date). */
  deadline: string;
  history: StatusEntry[];
}

export interface ComplaintsData {
  complainants: Complainant[];
  complaints: Complaint[];
}

const subjects: Readonly<Record<Category, readonly string[]>> = {
  'routes-ouvrages': ['Nids-de-poule sur la route provinciale', 'Pont endommagé après les pluies', 'Signalisation absente au carrefour', 'Travaux de voirie non achevés'],
  'transport-routier': ["Retard de délivrance d'un agrément de transport", 'Autocar en mauvais état', 'Refus de carte de conducteur professionnel'],
  'permis-conduire': ["Rendez-vous d'examen reporté sans préavis", 'Résultat d’examen non communiqué', 'Permis non délivré après réussite'],
  'immatriculation': ['Carte grise non reçue', 'Erreur sur le nom du propriétaire', 'Mutation de véhicule bloquée'],
  'marches-btp': ['Retard de paiement des décomptes', 'Dossier de qualification sans réponse', 'Contestation du classement'],
  'domaine-public': ["Occupation illégale de la plage", 'Autorisation d’occupation temporaire en attente', 'Redevance contestée'],
  'ports-marine': ['Délivrance du livret maritime', 'Accès au port refusé', 'Redevances portuaires'],
  'autre': ["Mauvais accueil au guichet", 'Demande d’information restée sans suite', 'Délais de traitement excessifs'],
};

export const dataYear = 2019;

function iso(r: Random, year: number): Date {
  return new Date(Date.UTC(year, r.int(0, 11), r.int(1, 28), r.int(8, 17), r.int(0, 59)));
}

const addDays = (d: Date, days: number): Date => new Date(d.getTime() + days * 86_400_000);
export const deadlineOf = (submittedAt: Date): string => addDays(submittedAt, answerDays).toISOString().slice(0, 10);

/** Each category and each status repeated by its count, shuffled with the seed: exact marginals, random pairing. */
function exactSequence<T extends string>(table: Readonly<Record<T, { count: number }>>, r: Random): T[] {
  const list: T[] = [];
  for (const [code, { count }] of Object.entries(table) as [T, { count: number }][]) for (let i = 0; i < count; i++) list.push(code);
  for (let i = list.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

/** The statuses a complaint went through to reach `final` (a reopened one goes traitee → en-cours → …). */
function pathTo(final: Status, r: Random): Status[] {
  switch (final) {
    case 'deposee': return ['deposee'];
    case 'en-cours': return r.chance(0.08) ? ['deposee', 'en-cours', 'traitee', 'en-cours'] : ['deposee', 'en-cours'];
    case 'en-attente-complement': return ['deposee', 'en-cours', 'en-attente-complement'];
    case 'traitee': return ['deposee', 'en-cours', 'traitee'];
    case 'cloturee': return r.chance(0.1) ? ['deposee', 'en-cours', 'en-attente-complement', 'en-cours', 'traitee', 'cloturee'] : ['deposee', 'en-cours', 'traitee', 'cloturee'];
    case 'rejetee': return r.chance(0.5) ? ['deposee', 'rejetee'] : ['deposee', 'en-cours', 'rejetee'];
  }
}

/** Generates the complainants (persons then companies) of the pool. */
function generateComplainants(seed: number, persons: number, companies: number): Complainant[] {
  const out: Complainant[] = [];
  for (let i = 0; i < persons; i++) {
    const p = person(seed, i);
    const r = Random.for(seed, 'complainant', i);
    const missingCin = i % 17 === 5; // a call or a letter without the CIN
    const arabicOnly = i % 23 === 7; // filed at a counter in Arabic only
    out.push({
      id: `P-${String(i + 1).padStart(5, '0')}`, kind: 'person', cin: missingCin ? null : p.cin,
      firstNameLatin: arabicOnly ? null : p.firstLatin, lastNameLatin: arabicOnly ? null : p.lastLatin,
      firstNameArabic: p.first.arabic, lastNameArabic: p.last.arabic,
      commune: communeAsWritten(r, p.addressCommune, 0.15), phone: r.chance(0.7) ? `06${String(r.int(10_000_000, 99_999_999))}` : null,
    });
  }
  // One person filed twice under two complainant ids (the same CIN): the hub links both to one golden record.
  const first = out[1];
  if (first && first.kind === 'person' && first.cin) out.push({ ...first, id: `P-${String(persons + 1).padStart(5, '0')}`, phone: null });
  for (let i = 0; i < companies; i++) {
    const c = company(seed, 20_000 + i);
    const missingIce = i % 11 === 3;
    out.push({ id: `E-${String(i + 1).padStart(5, '0')}`, kind: 'company', ice: missingIce ? null : c.ice, nameFr: c.nameFr, nameAr: c.nameAr, commune: c.commune, phone: null });
  }
  return out;
}

/** `total` complaints (the seed's 3,661 by default) from a pool of complainants; the same seed gives the same data. */
export function generateComplaintsData(options: { seed: number; persons: number; companies: number }): ComplaintsData {
  const complainants = generateComplainants(options.seed, options.persons, options.companies);
  const r = Random.for(options.seed, 'complaints');
  const cats = exactSequence(categories, r);
  const finals = exactSequence(statuses, r);
  const { table } = communeTable();
  const complaints: Complaint[] = [];
  const submitted: Date[] = [];
  for (let i = 0; i < seedComplaintTotal; i++) submitted.push(iso(r, dataYear));
  submitted.sort((a, b) => a.getTime() - b.getTime());
  for (let i = 0; i < seedComplaintTotal; i++) {
    const category = cats[i] as Category;
    const final = finals[i] as Status;
    const complainant = complainants[r.int(0, complainants.length - 1)] as Complainant;
    const at = submitted[i] as Date;
    const service = categories[category].service as ServiceCode;
    const history: StatusEntry[] = [];
    let when = at;
    for (const status of pathTo(final, r)) {
      history.push({ status, at: when.toISOString(), service: status === 'deposee' ? null : service });
      when = addDays(when, r.int(1, 25));
    }
    complaints.push({
      number: `REC-${dataYear}-${String(i + 1).padStart(6, '0')}`, accessCode: r.hex(8).toUpperCase(), complainantId: complainant.id,
      subject: r.pick(subjects[category]), category, channel: r.pickWeighted(channels, [45, 20, 20, 10, 5]), commune: table.pick(r).code,
      description: 'Réclamation reçue et enregistrée.', status: final, service: final === 'deposee' ? null : service,
      submittedAt: at.toISOString(), deadline: deadlineOf(at), history,
    });
  }
  return { complainants, complaints };
}
