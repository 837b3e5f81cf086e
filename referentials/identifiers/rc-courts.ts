// The courts whose registry (greffe) keeps a local commercial register (registre de commerce, RC). An RC number
// only means something within one court's register: the key is (court, number).
//
// How sure this list is:
// - The 8 commercial courts (tribunaux de commerce, loi 53-95 of 1997): Rabat, Casablanca, Fès, Marrakech, Tanger,
//   Agadir, Meknès, Oujda. Named identically by several independent pages; they took over the register from the
//   first-instance courts of their area in 1998. Fairly sure, but the 2022 judicial organisation law (loi 38-15) may
//   have created more since: not checked.
// - Elsewhere the register is kept by a tribunal de première instance (TPI). The TPI seats below are listed from
//   general knowledge of the judicial map, NOT from a source, and whether each keeps a register is not confirmed.
//   That is why a court missing from this list gives a warning, not a refusal (unless the caller asks for strict).

import { stripInvisible } from './text.ts';

export interface RcCourt {
  /** Stable id used in RC keys: `casablanca`, `kenitra`. */
  id: string;
  /** `commerce`: a tribunal de commerce; `first-instance`: a TPI. */
  kind: 'commerce' | 'first-instance';
  name: string;
  /** Sure for the 8 commercial courts; not confirmed from a source for the TPIs. */
  verified: boolean;
}

const commercial: readonly (readonly [id: string, name: string, aliases: readonly string[]])[] = [
  ['rabat', 'Rabat', ['الرباط']],
  ['casablanca', 'Casablanca', ['casa', 'dar el beida', 'dar beida', 'الدار البيضاء', 'الدارالبيضاء']],
  ['fes', 'Fès', ['fez', 'fas', 'فاس']],
  ['marrakech', 'Marrakech', ['marrakesh', 'مراكش']],
  ['tanger', 'Tanger', ['tangier', 'tangiers', 'tanja', 'طنجة']],
  ['agadir', 'Agadir', ['اكادير', 'أكادير']],
  ['meknes', 'Meknès', ['مكناس']],
  ['oujda', 'Oujda', ['وجدة']],
];

// Unverified (see above). Aliases are common spellings only.
const firstInstance: readonly (readonly [id: string, name: string, aliases?: readonly string[]])[] = [
  ['sale', 'Salé'], ['temara', 'Témara'], ['khemisset', 'Khémisset'], ['tiflet', 'Tiflet'], ['rommani', 'Rommani'],
  ['kenitra', 'Kénitra'], ['sidi-kacem', 'Sidi Kacem'], ['sidi-slimane', 'Sidi Slimane'], ['souk-el-arbaa', 'Souk El Arbaa', ['souk larbaa']],
  ['mohammedia', 'Mohammedia'], ['benslimane', 'Benslimane', ['ben slimane']], ['berrechid', 'Berrechid'], ['settat', 'Settat'],
  ['ben-ahmed', 'Ben Ahmed'], ['el-jadida', 'El Jadida'], ['sidi-bennour', 'Sidi Bennour'], ['safi', 'Safi'], ['youssoufia', 'Youssoufia'],
  ['essaouira', 'Essaouira'], ['kelaat-es-sraghna', 'Kelâat Es-Sraghna', ['kelaa des sraghna', 'el kelaa des sraghna']],
  ['ben-guerir', 'Ben Guerir', ['benguerir']], ['imintanout', 'Imintanout'], ['beni-mellal', 'Beni Mellal'],
  ['fquih-ben-salah', 'Fquih Ben Salah'], ['kasba-tadla', 'Kasba Tadla'], ['souk-sebt', 'Souk Sebt Oulad Nemma', ['souk sebt']],
  ['azilal', 'Azilal'], ['demnate', 'Demnate'], ['khouribga', 'Khouribga'], ['oued-zem', 'Oued Zem'], ['boujad', 'Boujad'],
  ['khenifra', 'Khénifra'], ['midelt', 'Midelt'], ['errachidia', 'Errachidia'], ['rissani', 'Rissani'], ['goulmima', 'Goulmima'],
  ['el-hajeb', 'El Hajeb'], ['azrou', 'Azrou'], ['sefrou', 'Sefrou'], ['boulemane', 'Boulemane'], ['missour', 'Missour'],
  ['taounate', 'Taounate'], ['taza', 'Taza'], ['guercif', 'Guercif'], ['asilah', 'Asilah', ['assilah']], ['larache', 'Larache'],
  ['ksar-el-kebir', 'Ksar El Kébir'], ['tetouan', 'Tétouan'], ['chefchaouen', 'Chefchaouen', ['chaouen']], ['ouezzane', 'Ouezzane', ['ouazzane']],
  ['al-hoceima', 'Al Hoceima', ['el hoceima']], ['targuist', 'Targuist'], ['nador', 'Nador'], ['driouch', 'Driouch'],
  ['berkane', 'Berkane'], ['taourirt', 'Taourirt'], ['jerada', 'Jerada'], ['figuig', 'Figuig', ['bouarfa']],
  ['inezgane', 'Inezgane'], ['taroudant', 'Taroudant'], ['tiznit', 'Tiznit'], ['ouarzazate', 'Ouarzazate'], ['zagora', 'Zagora'],
  ['tinghir', 'Tinghir', ['tinerhir']], ['guelmim', 'Guelmim'], ['tan-tan', 'Tan-Tan'], ['sidi-ifni', 'Sidi Ifni'], ['tata', 'Tata'],
  ['laayoune', 'Laâyoune'], ['es-semara', 'Es-Semara', ['smara']], ['boujdour', 'Boujdour'], ['dakhla', 'Dakhla', ['oued eddahab']],
];

/** Lower case, accents and punctuation out, words joined by '-': `Kelâat Es-Sraghna` → `kelaat-es-sraghna`. */
export function courtSlug(text: string): string {
  return stripInvisible(text)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[’'`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

// Words put before a court's town: "Tribunal de commerce de Casablanca", "TPI Kénitra", "المحكمة التجارية بالرباط".
const prefixes = [
  /^(greffe-(du|de-la)-)?(tribunal|trib)-(de-)?commerce-(de|d|du)-/,
  /^(greffe-(du|de-la)-)?(tribunal|trib)-(de-)?(premiere|1ere|1re)-instance-(de|d|du)-/,
  /^(registre-(de|du)-commerce-(de|d)-)/,
  /^(tc|tpi|rc)-(de-|d-)?/,
  /^(المحكمة-)?(التجارية|الابتدائية)-/,
];

const courts = new Map<string, RcCourt>();
const aliases = new Map<string, string>();
for (const [id, name, extra] of commercial) {
  courts.set(id, { id, kind: 'commerce', name, verified: true });
  for (const alias of [id, name, ...extra]) aliases.set(courtSlug(alias), id);
}
for (const [id, name, extra = []] of firstInstance) {
  courts.set(id, { id, kind: 'first-instance', name, verified: false });
  for (const alias of [id, name, ...extra]) aliases.set(courtSlug(alias), id);
}

/** Every court in the list. */
export const rcCourts: readonly RcCourt[] = [...courts.values()];

/** The court a free-text court name designates, or undefined when it is not in the list. */
export function findRcCourt(text: string): RcCourt | undefined {
  let slug = courtSlug(text);
  for (const prefix of prefixes) slug = slug.replace(prefix, '');
  // Arabic "ب" glued to the town ("بالرباط", "بفاس").
  const direct = aliases.get(slug) ?? (slug.startsWith('ب') ? aliases.get(slug.slice(1)) : undefined);
  return direct === undefined ? undefined : courts.get(direct);
}
