// A person's attributes as the persons referential holds them (module.ts normalises to them; blocking and scoring read them).

export const PERSON_SEXES = ['M', 'F'] as const;
export const PERSON_STATUSES = ['alive', 'deceased', 'unknown'] as const;

/** A driving licence's state (the infractions system's points register): valid, or suspended once no point is left. */
export const LICENCE_STATUSES = ['valid', 'suspended'] as const;
/** The points a licence holds at most (loi 52-05: 30, 20 during the probation period). */
export const LICENCE_MAX_POINTS = 30;

export interface PersonLicence {
  status: (typeof LICENCE_STATUSES)[number];
  points: number;
  /** YYYY-MM-DD: since when it is suspended (only when suspended). */
  suspendedAt?: string;
}

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
  /** The driving licence's points and state, as the infractions system reports them (it alone is trusted for it). */
  licence?: PersonLicence;
}
