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
 * even the review threshold (a common name is shared by thousands): the same birth or address commune. So undated
 * records are found, and look others up, by full name with a commune; dated records look undated ones up the same
 * way. Each name part is keyed in every script the record has.
 */
export function personBlockingKeys(attributes: PersonAttributes): BlockingKeys {
  const first = skeletons(attributes.firstNameLatin, attributes.firstNameArabic);
  const last = skeletons(attributes.lastNameLatin, attributes.lastNameArabic);
  const names = [...new Set(first.flatMap((f) => last.map((l) => `${f}|${l}`)))];
  const withCommune = (prefix: string): string[] => [
    ...(attributes.birthCommune ? names.map((n) => `${prefix}b:${n}:${attributes.birthCommune}`) : []),
    ...(attributes.addressCommune ? names.map((n) => `${prefix}a:${n}:${attributes.addressCommune}`) : []),
  ];
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
 * Keys that find a birth date one slip away, with the full name (first and last skeletons, so blocks stay small):
 * day and month in either order (`ds`: a swap), and each two of year, month and day (`dy`, `dm`, `dd`): a pair whose
 * dates differ in one part only (a digit, a day off by one) shares one of them. The score sends such pairs to review.
 */
export function nearDateKeys(date: string, names: readonly string[]): string[] {
  const [y, m, d] = [date.slice(0, 4), date.slice(5, 7), date.slice(8, 10)];
  const out: string[] = [];
  for (const n of names) {
    if (Number(d) <= 12 && d !== m) out.push(`ds:${y}:${m < d ? `${m}${d}` : `${d}${m}`}:${n}`);
    out.push(`dy:${y}-${m}:${n}`, `dm:${m}-${d}:${n}`, `dd:${y}--${d}:${n}`);
  }
  return out;
}
