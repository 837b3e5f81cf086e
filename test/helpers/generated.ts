// Generated persons (referentials/generator) as bulk rows, with each row's true entity: what the matching tests
// measure precision and recall against.
import type { BulkRow } from '../../src/golden/bulk-prepare.ts';
import { generateInMemory } from '../../referentials/generator/generate.ts';

export function generatedPersons(seed: number, n: number): { rows: BulkRow[]; entities: string[] } {
  const { records, truth } = generateInMemory({ seed, dupRate: 0.1, persons: n, companies: 0, vehicles: 0 });
  const entityOf = new Map(truth.map((r) => [`${r.sourceSystem}|${r.sourceId}`, r.entityId]));
  return {
    rows: records.persons.map((r, i) => ({ line: i + 1, sourceSystem: r.sourceSystem, sourceId: r.sourceId, attributes: r.attributes })),
    entities: records.persons.map((r) => entityOf.get(`${r.sourceSystem}|${r.sourceId}`) ?? ''),
  };
}

/**
 * `n` persons by CIN (from AB<first>), as rows of any source system: what tests of a bulk path racing single
 * contributions send from both sides, one record per CIN expected.
 */
export function personsByCin(first: number, n: number): { cins: string[]; row(system: string, i: number): BulkRow } {
  const cins = Array.from({ length: n }, (_, i) => `AB${String(first + i)}`);
  return {
    cins,
    row: (system, i) => ({
      line: i + 1,
      sourceSystem: system,
      sourceId: `${system}-${i}`,
      attributes: { cin: cins[i], firstNameLatin: 'Nadia', lastNameLatin: `Alami${i}`, birthDate: '1975-01-01' },
    }),
  };
}
