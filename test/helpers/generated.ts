// Generated persons (referentials/generator) as bulk rows, with each row's true entity: what the matching tests
// measure precision and recall against.
import type { BulkRow } from '../../src/referentials/bulk.ts';
import { generateInMemory } from '../../referentials/generator/generate.ts';

export function generatedPersons(seed: number, n: number): { rows: BulkRow[]; entities: string[] } {
  const { records, truth } = generateInMemory({ seed, dupRate: 0.1, persons: n, companies: 0, vehicles: 0 });
  const entityOf = new Map(truth.map((r) => [`${r.sourceSystem}|${r.sourceId}`, r.entityId]));
  return {
    rows: records.persons.map((r, i) => ({ line: i + 1, sourceSystem: r.sourceSystem, sourceId: r.sourceId, attributes: r.attributes })),
    entities: records.persons.map((r) => entityOf.get(`${r.sourceSystem}|${r.sourceId}`) ?? ''),
  };
}
