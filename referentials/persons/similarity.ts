// String similarity for name matching: Jaro–Winkler, trigram (Dice) similarity, and the compared forms of a name part.

import { foldArabic, latinKey } from '../text/fold.ts';
import { remember } from '../../src/text/remember.ts';

const scratchLength = 128;
const aScratch = new Uint8Array(scratchLength);
const bScratch = new Uint8Array(scratchLength);

/** Jaro similarity in [0, 1]. Characters compared by code unit: `a[i]` of an Arabic letter allocates a string. */
export function jaro(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  // Scratch flags reused from call to call (scoring compares millions of pairs); a longer string gets its own.
  const aMatched = a.length <= scratchLength ? aScratch.fill(0, 0, a.length) : new Uint8Array(a.length);
  const bMatched = b.length <= scratchLength ? bScratch.fill(0, 0, b.length) : new Uint8Array(b.length);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(b.length - 1, i + window);
    const ch = a.charCodeAt(i);
    for (let j = from; j <= to; j++) {
      if (bMatched[j] || ch !== b.charCodeAt(j)) continue;
      aMatched[i] = 1;
      bMatched[j] = 1;
      matches++;
      break;
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (!aMatched[i]) continue;
    while (!bMatched[k]) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) transpositions++;
    k++;
  }
  const t = transpositions / 2;
  return (matches / a.length + matches / b.length + (matches - t) / matches) / 3;
}

/** Jaro–Winkler: Jaro boosted by the common prefix (up to 4 characters, scale 0.1). */
export function jaroWinkler(a: string, b: string, prefixScale = 0.1): number {
  const j = jaro(a, b);
  let prefix = 0;
  while (prefix < 4 && prefix < a.length && prefix < b.length && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return j + prefix * prefixScale * (1 - j);
}

function trigrams(s: string): Set<string> {
  const padded = `  ${s} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  return out;
}

/** Dice coefficient over padded character trigrams (pg_trgm style), in [0, 1]. */
export function trigramSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const ta = trigrams(a);
  const tb = trigrams(b);
  let common = 0;
  for (const t of ta) if (tb.has(t)) common++;
  return (2 * common) / (ta.size + tb.size);
}

/**
 * The compared Latin form of a name part: `latinKey`, a leading article dropped (El Idrissi = Idrissi), words glued (Fatima Zahra = Fatimazahra),
 * then French soft c read as s (Youcef = Youssef: `c` before e/i is /s/ in French spelling) and e → a again (the
 * canonical particle `ben` keeps its e).
 */
export function latinPart(s: string): string {
  return memo(latinParts, s, latinPartOf);
}

function latinPartOf(s: string): string {
  const spoken = s.replace(/c(?=[eiy])/giu, 's').replace(/(?<=[b-df-hj-np-tv-z])e(?=$|[\s'-])/giu, '');
  const words = latinKey(spoken).split(' ').filter((w) => w !== '');
  if (words.length > 1 && words[0] === 'al') words.shift();
  return latinCompound(words.join('').replace(/e/g, 'a').replace(/([a-z])\1+/g, '$1'));
}

/**
 * Compound names written glued or apart read alike: the article inside `abd al-…` (Abdelkader, Abdel Kader,
 * Abderrahim with the article assimilated, Abdullah) and before `…ad-din` (Noureddine, Nour Eddine, Nourredine) is
 * dropped, as arabicCompound drops ال there, so both scripts give the same skeleton (abdkadar, bdkdr). Allah keeps its
 * l (Abdellah = abdlah, عبدالله = عبدله). Applied to the glued, keyed form (latinKey has already made e → a).
 */
export function latinCompound(glued: string): string {
  return glued.replace(/^abd[au]l?(?!ah$)(?=[a-z])/, 'abd').replace(/(?<=[a-z]{3})a?l?(?=din$)/, '');
}

/** The Arabic counterpart of latinCompound, on folded text: عبد القادر = عبدالقادر = عبدقادر, نور الدين = نورالدين = نوردين. */
export function arabicCompound(folded: string): string {
  return folded.replace(/عبد ?ال/g, 'عبد').replace(/ ?الدين/g, 'دين');
}

/** The consonant skeleton (vowels dropped): for last names only, where Sbai = Sebbai; never for first names (M'hamed ≠ Mohamed). */
export function consonants(latin: string): string {
  return latin.replace(/[aeiou]+/g, '');
}

/**
 * The vowel-slot skeleton of a Latin form: every run of vowels becomes one `V`. Spellings of one Arabic name differ
 * in vowel quality (Youssef/Yusuf) but keep the consonants and the places of vowels; M'hamed (mhamad) and Mohamed
 * (muhamad) differ in a vowel slot, so they never share a skeleton.
 */
export function vowelSlots(latin: string): string {
  return latin.replace(/[aeiou]+/g, 'V');
}

/** The compared Arabic form of a name part: folded, compounds read as one (arabicCompound), the article ال dropped at word starts, words glued. */
export function arabicPart(s: string): string {
  return memo(arabicParts, s, (x) => arabicCompound(foldArabic(x)).split(' ').map((w) => (w.length > 3 && w.startsWith('ال') ? w.slice(2) : w)).join(''));
}

// Name parts repeat (a few thousand first and last names cover most people), and scoring reads each pair's parts
// again: the folded forms are remembered, in bounded maps emptied when full.
const latinParts = new Map<string, string>();
const arabicParts = new Map<string, string>();
const memoLimit = 100_000;

export function memo(cache: Map<string, string>, key: string, compute: (s: string) => string): string {
  return remember(cache, key, compute, memoLimit);
}
