// Blocking keys for persons: a consonant skeleton of each name part that Latin and Arabic spellings share, so that a
// record written in one script finds one written in the other. A key only proposes candidates; the score decides
// (which is why merging M'hamed with Mohamed here is harmless, unlike in latinKey).

import { foldArabic } from '../text/fold.ts';
import type { BlockingKeys } from '../../src/golden/module.ts';
import type { PersonAttributes } from './attributes.ts';
import { arabicCompound, latinPart, memo } from './similarity.ts';

/** Arabic letters (as foldArabic leaves them) → the Latin consonants French transliteration writes; vowels and glides → ''. */
const ARABIC_CONSONANTS: Readonly<Record<string, string>> = {
  'ب': 'b', 'ت': 't', 'ث': 't', 'ج': 'j', 'ح': 'h', 'خ': 'kh', 'د': 'd', 'ذ': 'd', 'ر': 'r', 'ز': 'z', 'س': 's', 'ش': 'ch',
  'ص': 's', 'ض': 'd', 'ط': 't', 'ظ': 'd', 'ع': '', 'غ': 'gh', 'ف': 'f', 'ق': 'k', 'ك': 'k', 'ل': 'l', 'م': 'm', 'ن': 'n',
  'ه': 'h', 'و': '', 'ي': '', 'ا': '', 'ى': '', 'ء': '',
};

/** The consonant skeleton of an Arabic-script name part: article dropped, final ه (a folded ta marbuta) dropped. */
export function arabicSkeleton(name: string): string {
  return memo(arabicSkeletons, name, (x) => arabicSkeletonOf(x));
}

const arabicSkeletons = new Map<string, string>();

function arabicSkeletonOf(name: string): string {
  return arabicCompound(foldArabic(name))
    .split(' ')
    .filter((w) => w !== '')
    .map((w) => (w.length > 3 && w.startsWith('ال') ? w.slice(2) : w))
    .map((w) => (w.length > 2 && w.endsWith('ه') ? w.slice(0, -1) : w))
    .map((w) => [...w].map((ch) => ARABIC_CONSONANTS[ch] ?? '').join(''))
    .join('')
    .replace(/([a-z])\1+/g, '$1');
}

/** The consonant skeleton of a Latin name part (as the score reads it: latinPart), w and y counted as vowels. */
export function latinSkeleton(name: string): string {
  // Memoised like arabicSkeleton: names repeat (a few thousand spellings across a million persons).
  // ph is f (Mustapha, مصطفى), c before a consonant or a back vowel is k (Carima, كريمة), a final h after a vowel is the
  // ta marbuta that arabicSkeleton drops (Khadijah, خديجة): so both scripts give one skeleton.
  return memo(latinSkeletons, name, (x) =>
    latinPart(x).replace(/ph/g, 'f').replace(/c(?!h)/g, 'k').replace(/(?<=[aeiou])h$/, '').replace(/[aeiouwy]+/g, '').replace(/([a-z])\1+/g, '$1'));
}

const latinSkeletons = new Map<string, string>();

function skeletons(latin: string | undefined, arabic: string | undefined): string[] {
  const out = new Set<string>();
  if (latin) out.add(latinSkeleton(latin));
  if (arabic) out.add(arabicSkeleton(arabic));
  out.delete('');
  return [...out];
}

/**
 * A pair can only link when the birth dates agree or one is missing (a different date is a veto in the score). So a
 * dated record is looked up among records of its birth date that share the start of the first or of the last name
 * (a slip in one part still finds the other). Without a date on one side, a pair needs more than the name to reach
 * even the review threshold (a common name is shared by thousands): the same commune, of birth or of address. So
 * undated records are found, and look others up, by full name with a commune; dated records look undated ones up the
 * same way. Each name part is keyed in every script the record has.
 *
 * The commune key does not say which of the two communes it is (a person's birth commune on one record may be their
 * address on the other): one key a commune, and one only when a person lives where they were born (decisions §31).
 */
export function personBlockingKeys(attributes: PersonAttributes): BlockingKeys {
  const first = skeletons(attributes.firstNameLatin, attributes.firstNameArabic);
  const last = skeletons(attributes.lastNameLatin, attributes.lastNameArabic);
  const names = [...new Set(first.flatMap((f) => last.map((l) => `${f}|${l}`)))];
  const communes = [...new Set([attributes.birthCommune, attributes.addressCommune].filter((c): c is string => Boolean(c)))];
  const withCommune = (prefix: string): string[] => communes.flatMap((c) => names.map((n) => `${prefix}c:${n}:${c}`));
  const date = attributes.birthDate;
  if (!date) {
    // Undated: found by name and commune from dated (n) and undated (x) records alike.
    return { index: [...withCommune('n'), ...withCommune('x')], probe: withCommune('n') };
  }
  const dated = [...new Set([...last.map((l) => `d:${date}:s:${l.slice(0, 2)}`), ...first.map((f) => `d:${date}:f:${f.slice(0, 2)}`)])];
  const near = nearDateKeys(date, names);
  return { index: [...dated, ...near, ...withCommune('n')], probe: [...dated, ...near, ...withCommune('x')] };
}

/**
 * Keys that find a birth date one slip away, with the full name (first and last skeletons, so blocks stay small): the
 * birth year (`ny`: a day and month swapped, a digit of the day or of the month, a day off by one all keep the year)
 * and the day and month (`dm`: a digit of the year). The score sends such pairs to review. Two keys a name where there
 * were four (swap, year and month, month and day, year and day): the year's block is about twice the year and month's
 * (2.1 records against 1.1 at a million persons); with one commune key, a million persons write 24 % fewer key rows
 * (decisions §31).
 */
export function nearDateKeys(date: string, names: readonly string[]): string[] {
  const [y, m, d] = [date.slice(0, 4), date.slice(5, 7), date.slice(8, 10)];
  return names.flatMap((n) => [`ny:${y}:${n}`, `dm:${m}-${d}:${n}`]);
}
