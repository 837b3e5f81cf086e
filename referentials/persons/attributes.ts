// A person's attributes as the persons referential holds them (module.ts normalises to them; blocking and scoring read them).

export const PERSON_SEXES = ['M', 'F'] as const;
export const PERSON_STATUSES = ['alive', 'deceased', 'unknown'] as const;

export interface PersonAttributes extends Record<string, unknown> {
  /** CIN as written, normalised (upper case, no spaces): `AB012345`. */
  cin?: string;
  firstNameLatin?: string;
  lastNameLatin?: string;
  firstNameArabic?: string;
  lastNameArabic?: string;
  /** YYYY-MM-DD, not in the future. */
  birthDate?: string;
  /** Today's code of the birth commune. */
  birthCommune?: string;
  /** Birth place as written (a town abroad, a douar), when there is no commune code. */
  birthPlace?: string;
  sex?: (typeof PERSON_SEXES)[number];
  address?: string;
  addressCommune?: string;
  status?: (typeof PERSON_STATUSES)[number];
  deathDate?: string;
}
