// The name-equivalence model: Moroccan given and family names grouped into classes (one Arabic name and its Latin
// transliterations), and the look-alikes: different names that share a consonant skeleton or differ by one letter
// (محمد Mohamed ≠ امحمد M'hamed, أحمد Ahmed ≠ حميد Hamid). Sources and rules: docs/decisions.md, "Name equivalence".

import { FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES, type NameForms } from '../generator/names.ts';
import { arabicPart, latinPart } from './similarity.ts';

export type NameKind = 'given' | 'family';

/** One name: its class id (the folded Arabic form), its Arabic spellings and Latin transliterations. */
export interface NameClass {
  readonly id: string;
  readonly kind: NameKind;
  readonly arabic: readonly string[];
  readonly latin: readonly string[];
}

/**
 * Pairs of given names that are different names though their spellings come close: never the same class, compared as
 * `lookalike` (a doubtful pair a steward sees, never an automatic link). Each pair is written with its Arabic forms.
 * Pairs sharing a Latin consonant skeleton (Karim/Karima, Amine/Amina, Rachid/Rachida) are found by rule as well.
 */
const GIVEN_LOOKALIKES: readonly (readonly [string, string])[] = [
  ['محمد', 'امحمد'], // Mohamed, M'hamed: both mhmd
  ['محمد', 'محمود'], // Mohamed, Mahmoud
  ['أحمد', 'حميد'], // Ahmed, Hamid
  ['أحمد', 'حامد'], // Ahmed, Hamed
  ['حميد', 'حامد'], // Hamid, Hamed
  ['أحمد', 'محمد'], // Ahmed, Mohamed (a clerk's shortening)
  ['سعيد', 'سعد'], // Said, Saad
  ['حسن', 'حسين'], // Hassan, Houssine
  ['فاطمة', 'فاطمة الزهراء'], // Fatima, Fatima Zahra: often the same woman, as often not
  ['أمين', 'أمينة'],
  ['كريم', 'كريمة'],
  ['رشيد', 'رشيدة'],
];

/** The table: the generator's name lists (referentials/generator/names.ts), which hold the variants seen in records. */
function buildClasses(): NameClass[] {
  const of = (kind: NameKind) => (forms: NameForms): NameClass => ({ id: arabicPart(forms.arabic), kind, arabic: [forms.arabic], latin: forms.latin });
  return [...MALE_FIRST_NAMES.map(of('given')), ...FEMALE_FIRST_NAMES.map(of('given')), ...LAST_NAMES.map(of('family'))];
}

interface NameIndex {
  /** Compared form (latinPart or arabicPart) → the class ids it may be; a Latin spelling can be two names (Hamid). */
  byForm: Map<string, Set<string>>;
  lookalikes: Set<string>;
}

let indexes: Record<NameKind, NameIndex> | undefined;

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function consonantSkeleton(latinForm: string): string {
  return latinForm.replace(/[aeiouy]+/g, '');
}

function build(): Record<NameKind, NameIndex> {
  const out: Record<NameKind, NameIndex> = { given: { byForm: new Map(), lookalikes: new Set() }, family: { byForm: new Map(), lookalikes: new Set() } };
  const add = (index: NameIndex, form: string, id: string): void => {
    if (form === '') return;
    const set = index.byForm.get(form) ?? new Set<string>();
    set.add(id);
    index.byForm.set(form, set);
  };
  const classes = buildClasses();
  for (const c of classes) {
    const index = out[c.kind];
    for (const a of c.arabic) add(index, `ar:${arabicPart(a)}`, c.id);
    for (const l of c.latin) add(index, `la:${latinPart(l)}`, c.id);
  }
  for (const [a, b] of GIVEN_LOOKALIKES) out.given.lookalikes.add(pairKey(arabicPart(a), arabicPart(b)));
  // By rule: two given names whose main Latin spellings share a consonant skeleton (Karim krm, Karima krm).
  const given = classes.filter((c) => c.kind === 'given');
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      const [x, y] = [given[i], given[j]];
      if (!x || !y) continue;
      const sx = new Set(x.latin.map((l) => consonantSkeleton(latinPart(l))));
      if (y.latin.some((l) => sx.has(consonantSkeleton(latinPart(l))))) out.given.lookalikes.add(pairKey(x.id, y.id));
    }
  }
  return out;
}

function index(kind: NameKind): NameIndex {
  indexes ??= build();
  return indexes[kind];
}

/** The classes a written name part may belong to (empty when the table does not know it: string similarity decides). */
export function nameClasses(kind: NameKind, written: string, script: 'latin' | 'arabic'): ReadonlySet<string> {
  // Remembered by the written part: scoring asks for both parts of every pair it compares, and a part's compared form
  // and its lookup otherwise cost a new key string each time (bounded as the other memos are).
  const memo = classMemo[kind][script];
  const known = memo.get(written);
  if (known !== undefined) return known;
  const form = script === 'latin' ? `la:${latinPart(written)}` : `ar:${arabicPart(written)}`;
  const classes = index(kind).byForm.get(form) ?? EMPTY;
  if (memo.size >= classMemoLimit) memo.clear();
  memo.set(written, classes);
  return classes;
}

const classMemo: Record<NameKind, Record<'latin' | 'arabic', Map<string, ReadonlySet<string>>>> = {
  given: { latin: new Map(), arabic: new Map() },
  family: { latin: new Map(), arabic: new Map() },
};
const classMemoLimit = 100_000;

const EMPTY: ReadonlySet<string> = new Set();

export type TableVerdict = 'same' | 'lookalike' | 'different';

/**
 * What the table says of two name parts' classes: `same` when they may be one name, `lookalike` when they are
 * different names known to be confused, `different` otherwise; undefined when either part is outside the table.
 */
export function compareClasses(kind: NameKind, x: ReadonlySet<string>, y: ReadonlySet<string>): TableVerdict | undefined {
  if (x.size === 0 || y.size === 0) return undefined;
  for (const c of x) if (y.has(c)) return 'same';
  const lookalikes = index(kind).lookalikes;
  if (lookalikes.size === 0) return 'different';
  for (const a of x) for (const b of y) if (lookalikes.has(pairKey(a, b))) return 'lookalike';
  return 'different';
}

/** At most one edit apart (a letter dropped, added, replaced, or two adjacent letters swapped: Damerau–Levenshtein ≤ 1). */
export function oneEditApart(x: string, y: string): boolean {
  if (x === y) return true;
  const [m, n] = [x.length, y.length];
  if (Math.abs(m - n) > 1) return false;
  let i = 0;
  while (i < m && i < n && x[i] === y[i]) i++;
  if (m === n) return x.slice(i + 1) === y.slice(i + 1) || (x[i] === y[i + 1] && x[i + 1] === y[i] && x.slice(i + 2) === y.slice(i + 2));
  return m > n ? x.slice(i + 1) === y.slice(i) : x.slice(i) === y.slice(i + 1);
}

// The answers for the parts met so far, bounded as similarity.ts's memos are (emptied when full): an importer meets
// every spelling and slip of a first name outside the table once, and keeps running for millions of rows. An empty
// answer (the common one) is the shared EMPTY, not a set of its own.
const nearMemo: Record<NameKind, Map<string, ReadonlySet<string>>> = { given: new Map(), family: new Map() };
const nearMemoLimit = 100_000;

/**
 * The classes a Latin name part the table does not know is one keyboard slip away from (Mohamef, Khadjia, Isnail):
 * every class with a spelling one edit from it (compared as latinPart, at least 4 letters; a final vowel added or
 * dropped is another name, Samir beside Samira, not a slip). Empty when the table knows
 * the part (nameClasses decides) or nothing is that close. More than one class (Mhamed: one slip from Mohamed and
 * M'hamed) is no answer: the caller falls back to string similarity.
 */
export function nearClasses(kind: NameKind, written: string): ReadonlySet<string> {
  const form = latinPart(written);
  if (form.length < 4 || index(kind).byForm.has(`la:${form}`)) return EMPTY;
  const memo = nearMemo[kind];
  const known = memo.get(form);
  if (known) return known;
  const out = new Set<string>();
  for (const [key, ids] of index(kind).byForm) {
    const spelling = key.slice(3);
    if (key.startsWith('la:') && oneEditApart(form, spelling) && !feminineEnding(form, spelling)) for (const id of ids) out.add(id);
  }
  const answer = out.size === 0 ? EMPTY : out;
  if (memo.size >= nearMemoLimit) memo.clear();
  memo.set(form, answer);
  return answer;
}

/** One is the other with a final vowel: a masculine name and its feminine (Samir, Samira; Nabil, Nabila), not a slip. */
function feminineEnding(x: string, y: string): boolean {
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  return long.length === short.length + 1 && long.startsWith(short) && /[aiou]$/.test(long);
}

/** Whether two classes are known look-alikes (M'hamed and Mohamed, Karim and Karima). */
export function lookalikeClasses(kind: NameKind, a: string, b: string): boolean {
  return index(kind).lookalikes.has(pairKey(a, b));
}

/** The one class of a name part when the table knows it unambiguously (term frequencies are counted by class). */
export function singleClass(kind: NameKind, written: string, script: 'latin' | 'arabic'): string | undefined {
  const set = nameClasses(kind, written, script);
  return set.size === 1 ? (set.values().next().value as string) : undefined;
}

/** The table's classes, for docs and the calibration's term frequencies. */
export function nameTable(): readonly NameClass[] {
  return buildClasses();
}
