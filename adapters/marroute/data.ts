// MARROUTE's own data (issue 16 item 2): the road events the ministry's road information system shows (closures,
// works, driving conditions), in its own shape (French field names, its own ids), generated deterministically from a
// seed over real communes of mountain and through-road provinces. MARROUTE has filed events since before the 2015
// reform, so part of them still carry the commune's 2014 code; and it holds the odd records real systems hold: a
// commune code that exists nowhere, a commune outside the event's province, an event reported twice, a label in
// Arabic only. Nothing depends on the clock.
import { Random } from '../../referentials/generator/random.ts';
import { territory, type Commune } from '../../referentials/territory/territory.ts';

/** fermeture: the road is closed; travaux: works narrowing or slowing it; condition: snow, fog, wind, a slippery road. */
export const eventTypes = ['fermeture', 'travaux', 'condition'] as const;
export type EventType = (typeof eventTypes)[number];

/** prevu: announced; en_cours: in force; termine: over (the road reopened, the works finished). */
export const eventStates = ['prevu', 'en_cours', 'termine'] as const;
export type EventState = (typeof eventStates)[number];

/** A road event as MARROUTE holds it. */
export interface RoadEvent {
  /** `MR-26-000123`: the year of filing and a number. */
  id: string;
  type: EventType;
  /** Its cause (Chute de neige, Éboulement, Renforcement de la chaussée…). */
  nature: string;
  /** The road's number (RN2, RR505, RP5201). */
  route: string;
  /** Kilometre points (PK) of the stretch, as the road's markers read. */
  pkDebut: number;
  pkFin: number;
  codeProvince: string;
  /** The commune the stretch lies in, as filed (maybe its 2014 code); null for a stretch across a province. */
  codeCommune: string | null;
  /** The code it was reported under, when MARROUTE re-filed it since (a renumbering it received). */
  codeCommuneDeclare?: string;
  libelle: string | null;
  libelleAr: string | null;
  /** ISO 8601 with the offset, Morocco's +01:00. */
  debut: string;
  finPrevue: string | null;
  etat: EventState;
  deviation: string | null;
  /** The provincial directorate (DPETL) that reported it. */
  source: string;
  /** Its version in MARROUTE, raised at each change. */
  version: number;
}

/** Provinces whose roads MARROUTE reports most (passes, snow, rockfall), with their roads. */
export const roadProvinces: ReadonlyArray<{ code: string; roads: readonly string[]; snow: boolean }> = [
  { code: '01.051', roads: ['RN2', 'RN16', 'RR505'], snow: true },
  { code: '02.167', roads: ['RN2', 'RN16', 'RR610'], snow: false },
  { code: '03.131', roads: ['RN15', 'RN20', 'RR503'], snow: true },
  { code: '03.271', roads: ['RN8', 'RN13', 'RR707'], snow: true },
  { code: '07.041', roads: ['RN9', 'RN7', 'RR203'], snow: true },
  { code: '07.211', roads: ['RN1', 'RN8', 'RR207'], snow: false },
  { code: '08.363', roads: ['RN13', 'RR503', 'RP3417'], snow: true },
  { code: '09.541', roads: ['RN10', 'RN7', 'RR106'], snow: false },
];

const natures: Readonly<Record<EventType, readonly (readonly [fr: string, ar: string])[]>> = {
  fermeture: [['Chute de neige', 'تساقط الثلوج'], ['Éboulement', 'انهيار صخري'], ['Inondation', 'فيضان'], ['Effondrement de chaussée', 'انهيار القارعة']],
  travaux: [['Renforcement de la chaussée', 'تقوية القارعة'], ['Élargissement', 'توسيع الطريق'], ["Construction d'un ouvrage d'art", 'بناء منشأة فنية'], ['Réfection de la signalisation', 'تجديد التشوير']],
  condition: [['Chaussée glissante', 'قارعة منزلقة'], ['Brouillard dense', 'ضباب كثيف'], ['Vents forts', 'رياح قوية'], ['Neige: chaînes obligatoires', 'ثلوج: السلاسل إجبارية']],
};

/** The commune the demo renumbers (Ait Kamra, Al Hoceima: 01.051.05.01 in 2014, 01.051.11.01 since the reform). */
export const demoRenumbering = { code2014: '01.051.05.01', code2024: '01.051.11.01', province: '01.051' } as const;

export interface MarrouteData {
  events: RoadEvent[];
}

function eventId(n: number): string {
  return `MR-26-${String(n).padStart(6, '0')}`;
}

/** A date of the 2025–2026 winter and spring (events are dated, never "now"). */
function dateOf(rng: Random): string {
  const month = rng.pick(['2025-12', '2026-01', '2026-02', '2026-03', '2026-04']);
  return `${month}-${String(rng.int(1, 28)).padStart(2, '0')}T${String(rng.int(6, 20)).padStart(2, '0')}:00:00+01:00`;
}

/** `days` after an instant, written as Morocco's clock reads it (+01:00). */
function plusDays(iso: string, days: number): string {
  return `${new Date(Date.parse(iso) + days * 86_400_000 + 3_600_000).toISOString().slice(0, 19)}+01:00`;
}

const communesByProvince = new Map<string, Array<{ commune: Commune; code2014?: string }>>();

/** The communes of a province with, for those the reform renumbered, their 2014 code (computed once per province). */
function communesOf(province: string): Array<{ commune: Commune; code2014?: string }> {
  const known = communesByProvince.get(province);
  if (known) return known;
  const t = territory();
  const former = new Map(t.crosswalk().map((e) => [e.code2024, e.code2014]));
  const list = t.all('commune').filter((u): u is Commune => u.kind === 'commune' && u.provinceCode === province).map((commune) => {
    const code2014 = former.get(commune.code);
    return code2014 ? { commune, code2014 } : { commune };
  });
  communesByProvince.set(province, list);
  return list;
}

function event(rng: Random, n: number, province: (typeof roadProvinces)[number]): RoadEvent {
  const pool = communesOf(province.code);
  const { commune, code2014 } = rng.pick(pool);
  const type = rng.pickWeighted(eventTypes, [3, 4, 3]);
  const choices = natures[type].filter(([fr]) => province.snow || !/neige/i.test(fr));
  const [nature, natureAr] = rng.pick(choices);
  const route = rng.pick(province.roads);
  const pkDebut = rng.int(5, 380) + rng.int(0, 9) / 10;
  const debut = dateOf(rng);
  const etat = rng.pickWeighted(eventStates, [1, 5, 3]);
  return {
    id: eventId(n),
    type,
    nature,
    route,
    pkDebut,
    pkFin: Math.round((pkDebut + rng.int(1, 25) / 2) * 10) / 10,
    codeProvince: province.code,
    // MARROUTE has filed since before the reform: a renumbered commune is often still under its 2014 code.
    codeCommune: rng.chance(0.08) ? null : code2014 && rng.chance(0.6) ? code2014 : commune.code,
    libelle: `${nature} sur la ${route} au niveau de ${commune.nameFr}`,
    libelleAr: `${natureAr} على الطريق ${route} بجماعة ${commune.nameAr}`,
    debut,
    finPrevue: type === 'condition' ? null : plusDays(debut, rng.int(1, 60)),
    etat,
    deviation: type === 'fermeture' ? `Déviation par la ${rng.pick(province.roads.filter((r) => r !== route).concat(['piste communale']))}` : null,
    source: `DPETL ${territory().unit(province.code)?.nameFr ?? province.code}`,
    version: 1,
  };
}

/**
 * The data for a seed: `count` generated events spread over roadProvinces, then the demo's two events in Ait Kamra
 * under its 2014 code, then the odd records (each said in its comment).
 */
export function generateMarrouteData(options: { seed?: number; count?: number } = {}): MarrouteData {
  const rng = Random.for('marroute', options.seed ?? 2026);
  const events: RoadEvent[] = [];
  for (let i = 0; i < (options.count ?? 60); i++) events.push(event(rng, events.length + 1, rng.pick(roadProvinces)));
  const alHoceima = roadProvinces[0] as (typeof roadProvinces)[number];
  const aitKamra = territory().unit(demoRenumbering.code2024);
  const name = aitKamra?.nameFr ?? 'Ait Kamra';
  const nameAr = aitKamra?.nameAr ?? 'آيت قمرة';
  // The two the demo follows: filed in 2014 numbering, found under today's code once the renumbering reaches MARROUTE.
  events.push(
    { ...event(rng, events.length + 1, alHoceima), type: 'fermeture', nature: 'Éboulement', route: 'RN2', codeCommune: demoRenumbering.code2014, etat: 'en_cours', libelle: `Éboulement sur la RN2 au niveau de ${name}`, libelleAr: `انهيار صخري على الطريق RN2 بجماعة ${nameAr}`, deviation: 'Déviation par la RR505' },
    { ...event(rng, events.length + 2, alHoceima), type: 'travaux', nature: 'Renforcement de la chaussée', route: 'RR505', codeCommune: demoRenumbering.code2014, etat: 'en_cours', libelle: `Renforcement de la chaussée sur la RR505 au niveau de ${name}`, libelleAr: `تقوية القارعة على الطريق RR505 بجماعة ${nameAr}`, deviation: null },
  );
  // The odd records. A commune code that exists in neither numbering (a typing slip at the DPETL):
  events.push({ ...event(rng, events.length + 1, alHoceima), codeCommune: '01.051.99.99' });
  // A commune of another province (Tanger's) under an Al Hoceima event:
  events.push({ ...event(rng, events.length + 1, alHoceima), codeCommune: '01.511.01.01' });
  // An event reported twice, by two services, under two ids (same road, stretch, cause and start):
  const twice = event(rng, events.length + 1, roadProvinces[4] as (typeof roadProvinces)[number]);
  events.push(twice, { ...twice, id: eventId(events.length + 2), source: 'Centre régional de veille routière' });
  // A label in Arabic only (reported from the DPETL's Arabic form):
  events.push({ ...event(rng, events.length + 1, roadProvinces[3] as (typeof roadProvinces)[number]), libelle: null });
  return { events };
}
