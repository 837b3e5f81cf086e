// Blocking keys for persons: a consonant skeleton of each name part that Latin and Arabic spellings share, so that a
// record written in one script finds one written in the other. A key only proposes candidates; the score decides
// (which is why merging M'hamed with Mohamed here is harmless, unlike in latinKey).

import { foldArabic } from '../text/fold.ts';
import type { BlockingKeys } from '../../src/referentials/module.ts';
import type { PersonAttributes } from './module.ts';
import { latinPart } from './similarity.ts';

/** Arabic letters (as foldArabic leaves them) → the Latin consonants French transliteration writes; vowels and glides → ''. */
const ARABIC_CONSONANTS: Readonly<Record<string, string>> = {
  'ب': 'b', 'ت': 't', 'ث': 't', 'ج': 'j', 'ح': 'h', 'خ': 'kh', 'د': 'd', 'ذ': 'd', 'ر': 'r', 'ز': 'z', 'س': 's', 'ش': 'ch',
  'ص': 's', 'ض': 'd', 'ط': 't', 'ظ': 'd', 'ع': '', 'غ': 'gh', 'ف': 'f', 'ق': 'k', 'ك': 'k', 'ل': 'l', 'م': 'm', 'ن': 'n',
  'ه': 'h', 'و': '', 'ي': '', 'ا': '', 'ى': '', 'ء': '',
};

/** The consonant skeleton of an Arabic-script name part: article dropped, final ه (a folded ta marbuta) dropped. */
export function arabicSkeleton(name: string): string {
  return foldArabic(name)
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
  return latinPart(name).replace(/[aeiouwy]+/g, '').replace(/([a-z])\1+/g, '$1');
}

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
 * (a slip in one part still finds the other), and among undated records of the same full name; an undated record is
 * looked up by full name among all. Each name part is keyed in every script the record has.
 */
export function personBlockingKeys(attributes: PersonAttributes): BlockingKeys {
  const first = skeletons(attributes.firstNameLatin, attributes.firstNameArabic);
  const last = skeletons(attributes.lastNameLatin, attributes.lastNameArabic);
  const names = [...new Set(first.flatMap((f) => last.map((l) => `${f}|${l}`)))];
  const date = attributes.birthDate;
  if (!date) {
    // Undated: found by name from dated and undated records alike.
    return { index: [...names.map((n) => `n:${n}`), ...names.map((n) => `x:${n}`)], probe: names.map((n) => `n:${n}`) };
  }
  const dated = [...new Set([...last.map((l) => `d:${date}:s:${l.slice(0, 2)}`), ...first.map((f) => `d:${date}:f:${f.slice(0, 2)}`)])];
  return { index: [...dated, ...names.map((n) => `n:${n}`)], probe: [...dated, ...names.map((n) => `x:${n}`)] };
}
