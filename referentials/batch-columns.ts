// The CSV columns of each referential's source records (attribute names, nested ones in dot notation: `rc.number`):
// what a batch upload may carry besides sourceId (each module's batchColumns), and the columns the test-data generator
// writes.
export const sourceRecordColumns = {
  persons: ['cin', 'firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic', 'birthDate', 'birthCommune', 'sex', 'address', 'addressCommune', 'status', 'deathDate'],
  companies: ['ice', 'if', 'rc.number', 'rc.court', 'cnss', 'nameFr', 'nameAr', 'legalForm', 'status', 'address', 'commune', 'createdOn'],
  vehicles: ['plate', 'vin', 'category', 'make', 'model', 'firstRegistration', 'owner.type', 'owner.cin', 'owner.ice'],
} as const satisfies Record<string, readonly string[]>;

/** What a batch accepts: the generator's columns, and for persons the birth place that sources may give (it never writes one). */
export const batchColumns: Readonly<Record<keyof typeof sourceRecordColumns, readonly string[]>> = {
  persons: [...sourceRecordColumns.persons, 'birthPlace'],
  companies: sourceRecordColumns.companies,
  vehicles: sourceRecordColumns.vehicles,
};
