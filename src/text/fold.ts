// Name folding shared by every referential's matching and search: Latin and Arabic spellings of Moroccan names.
//
// Two strengths:
// - `foldLatin` / `foldArabic` / `foldName` remove only what never distinguishes two names: case, accents,
//   Arabic short vowels and letter-shape variants, apostrophe/hyphen/space variants. Two strings that fold
//   equal are the same spelling.
// - `latinKey` additionally absorbs the usual French/English/Spanish transliteration variants of the same
//   Arabic or Amazigh name (Ouled/Oulad, Chefchaouen/Shefshawen, Mohammed/Muhammad). It is for candidate
//   matching, never for deciding alone. Every rule is listed below with the reason it is safe, and rules that
//   would merge different names are deliberately left out: M'hamed (امحمد) must never key like Mohamed (محمد).

import { remember } from './remember.ts';

// ---------------------------------------------------------------------------------------------------------------
// Character classes

/** Apostrophe look-alikes found in transliterated names (M'diq, M’diq, Aït ʼBaha…), unified to U+0027. */
const APOSTROPHES = /[\u0027\u0060\u00B4\u2018\u2019\u201B\u2032\u02BB\u02BC\u02BD\u02B9\u02BE\u02BF\uFF07]/g;
/** Hyphen and dash look-alikes and the underscore: all separate words, so they become a space (Fès-Meknès). */
const HYPHENS = /[-_\u00AD\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uFE58\uFE63\uFF0D]/g;
/** Other punctuation that never carries meaning inside a name; it separates words. Arabic comma/semicolon too. */
const PUNCTUATION = /[.,;:!?()[\]{}"«»“”„/\\|*+&\u060C\u061B\u061F\u066B\u066C\u06D4]/g;
/** Invisible characters: zero-width (non-)joiners, direction marks, BOM. */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
/** Any run of white space (incl. no-break and ideographic spaces) collapses to one ASCII space. */
const SPACES = /\s+/gu;

/** Latin letters NFKD does not decompose. */
const LATIN_LIGATURES: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', ı: 'i', þ: 'th',
};

/** Arabic script letters and digits (base block, supplement, extended-A, presentation forms). */
const ARABIC_LETTER = /[\u0620-\u064A\u0660-\u0669\u06F0-\u06F9\u066E-\u06D3\u06D5\u06FA-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/u;
const LATIN_LETTER = /\p{Script=Latin}/u;

/**
 * Arabic marks that are not letters: tashkeel/harakat (fatha … sukun, tanween, shadda, hamza above/below
 * as combining marks), superscript alef, Quranic annotation signs, and tatweel (kashida, U+0640).
 */
const ARABIC_MARKS = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E8\u06EA-\u06ED\u08D3-\u08FF\u0640]/g;

/** One-to-one Arabic letter unifications (applied after marks are removed). */
const ARABIC_LETTERS: Readonly<Record<string, string>> = {
  // alef forms → bare alef: أ إ آ ٱ (and the rarer ٲ ٳ ٵ)
  '\u0623': '\u0627', '\u0625': '\u0627', '\u0622': '\u0627', '\u0671': '\u0627',
  '\u0672': '\u0627', '\u0673': '\u0627', '\u0675': '\u0627',
  // hamza on a carrier → the carrier: ؤ → و, ئ → ي
  '\u0624': '\u0648', '\u0626': '\u064A',
  // standalone hamza ء is dropped (مؤسسة / موسسة / مءسسة all fold alike)
  '\u0621': '',
  // alef maqsura ى → ya ي; ta marbuta ة → ha ه (final ة is written ه in many registers)
  '\u0649': '\u064A', '\u0629': '\u0647',
  // Persian/Urdu look-alikes typed by non-Arabic keyboards: ک → ك, ی → ي, ے → ي, ھ → ه, ۀ → ه
  '\u06A9': '\u0643', '\u06CC': '\u064A', '\u06D2': '\u064A', '\u06BE': '\u0647', '\u06C0': '\u0647',
  // Maghrebi "g" letters ڭ (kaf with three dots) and گ (gaf): HCP writes the same names with ك
  // (أكادير, اكزناية), so they fold to ك.
  '\u06AD': '\u0643', '\u06AF': '\u0643',
};

function arabicDigit(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0x0660 && cp <= 0x0669) return String(cp - 0x0660); // Arabic-Indic ٠…٩
  if (cp >= 0x06f0 && cp <= 0x06f9) return String(cp - 0x06f0); // Extended Arabic-Indic (Persian) ۰…۹
  return ch;
}

function collapseSpaces(s: string): string {
  return s.replace(SPACES, ' ').trim();
}

// ---------------------------------------------------------------------------------------------------------------
// Folding

/**
 * Folds a Latin-script name: NFKD, diacritics stripped (Fès → fes, Aït → ait, Laâyoune → laayoune), lower case,
 * ligatures expanded (œ → oe), Arabic-Indic digits → ASCII, apostrophe variants unified to `'`, hyphens/dashes/underscores and other
 * punctuation turned into spaces, spaces collapsed and trimmed. Digits are kept. Arabic letters pass through.
 */
export function foldLatin(s: string): string {
  let out = s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  out = out.replace(/[ßæœøđðłıþ]/g, (ch) => LATIN_LIGATURES[ch] ?? ch);
  out = out
    .replace(/[\u0660-\u0669\u06F0-\u06F9]/g, arabicDigit)
    .replace(INVISIBLE, '')
    .replace(APOSTROPHES, "'")
    .replace(HYPHENS, ' ')
    .replace(PUNCTUATION, ' ');
  return collapseSpaces(out);
}

/**
 * Folds an Arabic-script name: tashkeel/harakat and tatweel removed, alef forms أ إ آ ٱ → ا, hamza on carriers
 * ؤ → و and ئ → ي, standalone ء removed, ى → ي, ة → ه, Persian/Urdu look-alikes (ک ی ھ) and Maghrebi ڭ/گ mapped
 * to their Arabic letters, Arabic-Indic digits → ASCII, punctuation/dashes → space, spaces collapsed.
 * Latin letters pass through unchanged.
 */
export function foldArabic(s: string): string {
  // NFKC turns presentation forms (ﻻ, ﺃ …) into ordinary letters while keeping أ/ؤ/ئ precomposed.
  let out = s.normalize('NFKC').replace(INVISIBLE, '').replace(ARABIC_MARKS, '');
  out = out.replace(/[\u0621-\u0626\u0629\u0649\u0671-\u0675\u06A9\u06AD\u06AF\u06BE\u06C0\u06CC\u06D2]/g, (ch) => ARABIC_LETTERS[ch] ?? ch);
  out = out.replace(/[\u0660-\u0669\u06F0-\u06F9]/g, arabicDigit);
  out = out.replace(HYPHENS, ' ').replace(PUNCTUATION, ' ');
  return collapseSpaces(out);
}

export function hasArabic(s: string): boolean {
  return ARABIC_LETTER.test(s);
}

export function hasLatin(s: string): boolean {
  return LATIN_LETTER.test(s);
}

/** Folds a name by its script: Arabic, Latin, or both for mixed strings (e.g. "Ait Baha آيت باها"). */
export function foldName(s: string): string {
  const arabic = hasArabic(s);
  if (arabic && hasLatin(s)) return foldLatin(foldArabic(s));
  return arabic ? foldArabic(s) : foldLatin(s);
}

// ---------------------------------------------------------------------------------------------------------------
// Transliteration key

/**
 * Particles recognised as whole words (after `foldLatin`, apostrophes and hyphens already split them off),
 * each mapped to one canonical token. They are not folded further by the letter rules.
 *
 * - article ال: el, al, l (from l'…) → "al". Sun-letter assimilated forms are handled separately (see below).
 * - ابن / بن "son of": ben, bin, ibn, bn → "ben"
 * - بني "sons of (tribe)": bni, beni, bani → "bni" (kept apart from "ben": a different word)
 * - أولاد "sons of (tribe)": oulad, ouled, aoulad, awlad, oulade → "oulad"
 * - ولد "son of": ould, wuld → "ould" (kept apart from "oulad": a different word)
 * - آيت "sons of" (Amazigh): ait, ayt, aith → "ait"
 */
const PARTICLES: Readonly<Record<string, string>> = {
  el: 'al', al: 'al', l: 'al',
  ben: 'ben', bin: 'ben', ibn: 'ben', bn: 'ben',
  bni: 'bni', beni: 'bni', bani: 'bni',
  oulad: 'oulad', ouled: 'oulad', aoulad: 'oulad', awlad: 'oulad', oulade: 'oulad',
  ould: 'ould', wuld: 'ould',
  ait: 'ait', ayt: 'ait', aith: 'ait',
};

/** Sun-letter assimilated articles (Es-Semara, Ed-Dahab, Er-Rachidia, Ech-Chaouen, En-Nour, Ez-Zahra, Et-Tahar). */
const ASSIMILATED_ARTICLE = /^[ae](s|d|r|t|z|n|ch|sh)$/;

/**
 * Letter rules applied inside one word, in this order (order matters: "ou" must be read before "o").
 * Each is a spelling variant of the same Arabic/Amazigh sound in French, English or Spanish transliteration.
 */
const LETTER_RULES: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/'/g, '', "apostrophes dropped: M'hamed = Mhamed, M'diq = Mdiq (the letter string stays, so mhamed ≠ mohamed)"],
  [/sh/g, 'ch', 'sh → ch: ش (English Shefshawen, French Chefchaouen)'],
  [/dj/g, 'j', 'dj → j: ج (Djerada = Jerada)'],
  [/q/g, 'k', 'q → k: ق is written k in French (Ksar, Kénitra) and q in English (Qsar, Qnitra)'],
  [/ou/g, 'u', 'ou → u: French "ou" is the vowel/glide و (Oulad, Ouarzazate)'],
  [/w/g, 'u', 'w → u: English/Spanish spelling of و (Wazzane = Ouazzane)'],
  [/o/g, 'u', 'o → u: Arabic has no o; Mohamed = Muhamed'],
  [/e/g, 'a', 'e → a: both render the short vowel fatha (Ouled = Oulad, Abdellah = Abdallah, Meknès = Maknas)'],
  [/y/g, 'i', 'y → i: ي (Ayt = Ait, Moulay = Moulai)'],
  [/([a-z])\1+/g, '$1', 'double letters collapsed: shadda and French doubling (Mohammed = Mohamed, Essaouira = Esaouira)'],
];

/**
 * Rules considered and deliberately NOT applied, because they merge different names:
 * - dropping vowels to a consonant skeleton: M'hamed and Mohamed would both become "mhmd".
 * - rh → gh: French wrote غ as "rh" (Rharb = Gharb, Arhbala) but "rh" is also ر + ح (Rhamna, Ouled Berhil).
 * - kh → k or h: "kh" is the only Latin spelling of خ, a letter of its own; it is kept as written.
 * - splitting glued particles (Benslimane → Ben Slimane, Elhajeb → El Hajeb): "Bennour" (بنور) and "Elias"
 *   (إلياس) are not particle + name; only particles already separated by a space, hyphen or apostrophe count.
 * - i ↔ a/e or dropping a short vowel in general: Bni/Beni are one word, so that pair is a particle, not a
 *   letter rule (so Ouannana/Ounnana stay distinct keys).
 * - dh → d, th → t, z → s: each would merge two Arabic letters (ذ/د, ث/ت, ز/س) that Latin spellings do keep
 *   apart. q → k is applied because French spellings do not keep ق and ك apart (Kénitra is القنيطرة).
 *
 * Keys still collide where Latin spelling itself is ambiguous: in the HCP data "Oulad Amer" (أولاد عامر) and
 * "Oulad Aamer" (أولاد عمرو) share a key, as do Lamharra (لمحرة) and Lamhara (لمهارة). A key is a candidate;
 * the Arabic name, when present, decides.
 */
export const LATIN_KEY_RULES: ReadonlyArray<string> = [
  'foldLatin first (case, accents, apostrophe/hyphen/space variants)',
  'particles as whole words: el/al/l → al; ben/bin/ibn → ben; bni/beni/bani → bni; oulad/ouled/awlad → oulad; ould → ould; ait/ayt → ait',
  'sun-letter articles (es-, ed-, er-, et-, ez-, en-, ech-) → al when the next word starts with that consonant',
  ...LETTER_RULES.map(([, , why]) => why),
];

function keyWord(word: string): string {
  return remembered(keyedWords, word, (w) => {
    let out = w;
    for (const [pattern, replacement] of LETTER_RULES) out = out.replace(pattern, replacement);
    return out;
  });
}

// A bulk import keys a million names, made of some 50,000 distinct words (the generator's 1,120,703 persons: 735,512
// distinct Latin full names, 56,556 distinct words), and the folds are chains of regular expressions: each word's
// fold and key are remembered, in maps emptied when full. Folding a word at a time is exact: every step of a fold
// (normalisation, marks, letters, digits, punctuation) maps characters within a word, none composes across a space,
// and the fold collapses the spaces between them (referentials/text/fold.test.ts compares the two on 5,000 strings of every kind of character).
const foldedWords = new Map<string, string>();
const keyedWords = new Map<string, string>();
const arabicFoldedWords = new Map<string, string>();
const wordsLimit = 50_000;
const remembered = (cache: Map<string, string>, key: string, compute: (s: string) => string): string => remember(cache, key, compute, wordsLimit);

function foldWords(s: string, cache: Map<string, string>, fold: (word: string) => string): string {
  let out = '';
  for (const word of s.split(' ')) {
    if (word === '') continue;
    const folded = remembered(cache, word, fold);
    if (folded !== '') out = out === '' ? folded : `${out} ${folded}`;
  }
  return out;
}

const bothFolds = (w: string): string => foldLatin(foldArabic(w));

/** foldLatin(foldArabic(s)), a word (between ASCII spaces) at a time, each word's fold remembered. */
export function foldNameWords(s: string): string {
  return foldWords(s, foldedWords, bothFolds);
}

/** foldArabic(s), a word at a time, each word's fold remembered. */
export function foldArabicWords(s: string): string {
  return foldWords(s, arabicFoldedWords, foldArabic);
}

/**
 * A transliteration-tolerant key for Latin spellings of Moroccan names: words separated by single spaces,
 * particles canonical, letter variants folded (see `LATIN_KEY_RULES`). Equal keys mean "probably the same name
 * spelt differently", a candidate for matching, never a decision. Arabic letters in the input are left as
 * `foldArabic` leaves them.
 */
export function latinKey(s: string): string {
  const folded = foldNameWords(s);
  // An apostrophe after a word-initial l is the article's elision (l'Oued): a word boundary.
  const words = folded.replace(/(^| )l'/g, '$1l ').split(' ').filter((w) => w !== '');
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const next = words[i + 1];
    const particle = PARTICLES[word.replace(/'/g, '')];
    if (particle !== undefined) {
      out.push(particle);
      continue;
    }
    const assimilated = ASSIMILATED_ARTICLE.exec(word);
    if (assimilated && next !== undefined && next.startsWith(assimilated[1] ?? '\0')) {
      out.push('al');
      continue;
    }
    const keyed = keyWord(word);
    if (keyed !== '') out.push(keyed);
  }
  return out.join(' ');
}
