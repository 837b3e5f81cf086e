// Family names as a population bears them: the 50 listed names (names.ts) are the commonest, and a long tail of
// names composed the way Moroccan family names are: a nisba on a three-consonant root (El Kettabi, الكتابي; Zemmouri,
// الزموري; Rahmani, الرحماني), a patronymic (Benahmed, بنأحمد) or an Amazigh "sons of" (Ait Brahim, آيت ابراهيم).
// Before this tail, 50 names were all there was: the commonest borne by 10 % of persons and two persons drawn at
// random shared a family name 3.3 % of the time, so namesakes born the same day were some 20 times commoner than a
// population with tens of thousands of family names has them (docs/decisions.md §30).

import { MALE_FIRST_NAMES, LAST_NAMES, type NameForms } from './names.ts';
import { Random } from './random.ts';

/**
 * Arabic consonants with the Latin spellings French transliteration gives them. Letters whose skeleton is ambiguous
 * or empty (ع, ه, و, ي, ء) are left out: the composed names stay one name per skeleton pattern, as the listed ones.
 */
const CONSONANTS: readonly (readonly [arabic: string, latin: readonly string[]])[] = [
  ['ب', ['b']], ['ت', ['t']], ['ج', ['j']], ['ح', ['h']], ['خ', ['kh']], ['د', ['d']], ['ر', ['r']], ['ز', ['z']],
  ['س', ['s']], ['ش', ['ch']], ['ص', ['s']], ['ط', ['t']], ['غ', ['gh']], ['ف', ['f']], ['ق', ['k', 'q']], ['ك', ['k']],
  ['ل', ['l']], ['م', ['m']], ['ن', ['n']],
];

type Consonant = (typeof CONSONANTS)[number];

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** A doubled consonant in Latin (Kettabi): a digraph (kh, ch, gh) is written once. */
const doubled = (latin: string): string => (latin.length === 1 ? latin + latin : latin);

/**
 * The nisba patterns on a root c1 c2 c3: the Arabic form (with the article, as civil registers write these names) and
 * the Latin spellings seen for it, the commonest first: with or without the article, a or e in the first syllable.
 */
function nisbas([a1, l1s]: Consonant, [a2, l2s]: Consonant, [a3, l3s]: Consonant): NameForms[] {
  const out: NameForms[] = [];
  const spellings = (make: (l1: string, l2: string, l3: string) => string[]): string[] => {
    const all = l1s.flatMap((l1) => l2s.flatMap((l2) => l3s.flatMap((l3) => make(l1, l2, l3))));
    return [...new Set(all.map(capital))];
  };
  out.push({ arabic: `ال${a1}${a2}ا${a3}ي`, latin: spellings((x, y, z) => [`${x}e${doubled(y)}a${z}i`, `${x}a${doubled(y)}a${z}i`, `El ${capital(`${x}e${doubled(y)}a${z}i`)}`]) });
  out.push({ arabic: `ال${a1}${a2}و${a3}ي`, latin: spellings((x, y, z) => [`${x}e${doubled(y)}ou${z}i`, `${x}a${y}ou${z}i`, `El ${capital(`${x}e${doubled(y)}ou${z}i`)}`]) });
  // Two consonants written together would read as a digraph in Latin (s + h is sh, d + j is dj): a name is not formed so.
  if (!l3s.some((z) => z.startsWith('h')) && !(l2s.includes('d') && l3s.includes('j'))) {
    out.push({ arabic: `ال${a1}${a2}${a3}اني`, latin: spellings((x, y, z) => [`${x}a${y}${z}ani`, `${x}e${y}${z}ani`, `El ${capital(`${x}a${y}${z}ani`)}`]) });
  }
  return out;
}

/** Ben + a given name (Benahmed, Ben Ahmed) and Ait + a given name (Ait Ahmed), from the single-word male names. */
function patronymics(): NameForms[] {
  return MALE_FIRST_NAMES.filter((g) => !g.arabic.includes(' ') && !g.latin.some((l) => /[ ']/.test(l))).flatMap((g) => {
    const latin = g.latin[0] ?? '';
    return [
      { arabic: `بن${g.arabic}`, latin: [`Ben${latin.toLowerCase()}`, `Ben ${latin}`] },
      { arabic: `آيت ${g.arabic}`, latin: [`Ait ${latin}`, `Aït ${latin}`] },
    ];
  });
}

/** The composed names in a fixed order drawn once from a seeded shuffle, so that rank says nothing of the root. */
function composed(): NameForms[] {
  const roots: NameForms[] = [];
  for (const c1 of CONSONANTS) {
    // The article's ل before a root starting with ل would be read as a doubled article.
    if (c1[0] === 'ل') continue;
    for (const c2 of CONSONANTS) {
      for (const c3 of CONSONANTS) {
        if (c1 === c2 || c2 === c3) continue;
        roots.push(...nisbas(c1, c2, c3));
      }
    }
  }
  const listed = new Set(LAST_NAMES.map((n) => n.arabic));
  const all = [...patronymics(), ...roots].filter((n) => !listed.has(n.arabic));
  const r = Random.for('family-names', 1);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [all[i], all[j]] = [all[j] as NameForms, all[i] as NameForms];
  }
  return all;
}

/** Zipf exponent over all family names by rank: the commonest (Alaoui) about 2.3 % of persons, the listed 50 about 17 %. */
export const FAMILY_NAME_EXPONENT = 0.75;

interface FamilyNameTable {
  names: readonly NameForms[];
  /** Cumulative shares by rank, the last 1: a name is drawn from one uniform number (a binary search). */
  cumulative: Float64Array;
}

let table: FamilyNameTable | undefined;

/** Every family name the generator draws from, the commonest first: the listed 50, then the composed ones. */
export function familyNameTable(): FamilyNameTable {
  if (table) return table;
  const names = [...LAST_NAMES, ...composed()];
  const cumulative = new Float64Array(names.length);
  let total = 0;
  for (let i = 0; i < names.length; i++) cumulative[i] = total += 1 / (i + 1) ** FAMILY_NAME_EXPONENT;
  for (let i = 0; i < names.length; i++) cumulative[i] = (cumulative[i] as number) / total;
  table = { names, cumulative };
  return table;
}

/** A person's family name, from one draw of `r` (as the 50-name pick it replaces, so every other field stays put). */
export function drawFamilyName(r: Random): NameForms {
  const { names, cumulative } = familyNameTable();
  const x = r.next();
  let lo = 0;
  let hi = names.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return names[lo] as NameForms;
}
