// ICE (Identifiant Commun de l'Entreprise): 15 digits whose value is 0 mod 97. A local copy of the rule until the companies referential owns it.

/** 9 digits of company, 4 of establishment, 2 control digits. */
export const icePattern = /^[0-9]{15}$/;

/** The remainder of a digit string modulo 97, digit by digit (15 digits overflow a double's exact range). */
function mod97(digits: string): number {
  let remainder = 0;
  for (let i = 0; i < digits.length; i++) remainder = (remainder * 10 + (digits.charCodeAt(i) - 48)) % 97;
  return remainder;
}

/** Valid when it has the ICE shape and the whole 15-digit number is divisible by 97 (checked on real ICEs: see shared/data/identifiers). */
export function isValidIce(value: string): boolean {
  return icePattern.test(value) && mod97(value) === 0;
}

/** The two control digits that make `first13 + key` divisible by 97. */
export function iceControlKey(first13: string): string {
  if (!/^[0-9]{13}$/.test(first13)) throw new RangeError('an ICE without its key is 13 digits');
  return String((97 - mod97(`${first13}00`)) % 97).padStart(2, '0');
}

/** Builds a valid ICE from a 9-digit company number and a 4-digit establishment number (0000: the head office, as most ICEs read). */
export function makeIce(company: string, establishment = '0000'): string {
  if (!/^[0-9]{9}$/.test(company) || !/^[0-9]{4}$/.test(establishment)) throw new RangeError('company is 9 digits and establishment 4');
  const first13 = company + establishment;
  return first13 + iceControlKey(first13);
}
