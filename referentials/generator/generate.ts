// Generates the three referentials' source records and the ground truth, one entity at a time, to files or to a callback.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GeneratedEntity, GeneratorOptions, SourceRecord, TruthRow } from './common.ts';
import { generateCompany } from './companies.ts';
import { type OutputFormat, RecordWriter } from './output.ts';
import { generatePerson } from './persons.ts';
import { generateVehicle } from './vehicles.ts';

export type { GeneratorOptions, SourceRecord, TruthRow } from './common.ts';

export const DEFAULT_GENERATOR_OPTIONS: GeneratorOptions = { seed: 1, dupRate: 0.1, persons: 1000, companies: 200, vehicles: 500 };

export type Referential = 'persons' | 'companies' | 'vehicles';

export interface Counts {
  entities: number;
  records: number;
  duplicates: number;
  bySource: Record<string, number>;
  byVariation: Record<string, number>;
}

export type Summary = Record<Referential, Counts>;

function emptyCounts(): Counts {
  return { entities: 0, records: 0, duplicates: 0, bySource: {}, byVariation: {} };
}

/** Every entity of every referential, in order: persons, companies, vehicles. Lazy: memory does not grow with N. */
export function* entities(options: GeneratorOptions): Generator<[Referential, GeneratedEntity]> {
  const { seed, dupRate } = options;
  for (let i = 0; i < options.persons; i++) yield ['persons', generatePerson(seed, i, dupRate, options.scriptMode)];
  for (let i = 0; i < options.companies; i++) yield ['companies', generateCompany(seed, i, dupRate)];
  const owners = { persons: options.persons, companies: options.companies };
  for (let i = 0; i < options.vehicles; i++) yield ['vehicles', generateVehicle(seed, i, dupRate, owners)];
}

function count(summary: Summary, referential: Referential, entity: GeneratedEntity): void {
  const c = summary[referential];
  c.entities++;
  for (const t of entity.truth) {
    c.records++;
    if (t.duplicate) c.duplicates++;
    c.bySource[t.sourceSystem] = (c.bySource[t.sourceSystem] ?? 0) + 1;
    for (const v of t.variations) c.byVariation[v] = (c.byVariation[v] ?? 0) + 1;
  }
}

/** Generates in memory (for tests and small runs): records per referential and the ground truth. */
export function generateInMemory(options: GeneratorOptions): { records: Record<Referential, SourceRecord[]>; truth: TruthRow[]; summary: Summary } {
  const records: Record<Referential, SourceRecord[]> = { persons: [], companies: [], vehicles: [] };
  const truth: TruthRow[] = [];
  const summary: Summary = { persons: emptyCounts(), companies: emptyCounts(), vehicles: emptyCounts() };
  for (const [referential, entity] of entities(options)) {
    records[referential].push(...entity.records);
    truth.push(...entity.truth);
    count(summary, referential, entity);
  }
  return { records, truth, summary };
}

/** Streams `persons.<ext>`, `companies.<ext>`, `vehicles.<ext>` and `ground-truth.<ext>` into `dir`. */
export async function generateToDirectory(options: GeneratorOptions, dir: string, format: OutputFormat = 'ndjson'): Promise<Summary> {
  mkdirSync(dir, { recursive: true });
  const ext = format === 'csv' ? 'csv' : 'ndjson';
  const writers = {
    persons: new RecordWriter(join(dir, `persons.${ext}`), 'persons', format),
    companies: new RecordWriter(join(dir, `companies.${ext}`), 'companies', format),
    vehicles: new RecordWriter(join(dir, `vehicles.${ext}`), 'vehicles', format),
  };
  const truth = new RecordWriter(join(dir, `ground-truth.${ext}`), 'ground-truth', format);
  const summary: Summary = { persons: emptyCounts(), companies: emptyCounts(), vehicles: emptyCounts() };
  for (const [referential, entity] of entities(options)) {
    for (const record of entity.records) await writers[referential].write(record);
    for (const row of entity.truth) await truth.write(row);
    count(summary, referential, entity);
  }
  await Promise.all([...Object.values(writers).map((w) => w.close()), truth.close()]);
  return summary;
}
