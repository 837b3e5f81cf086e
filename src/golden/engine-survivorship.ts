// Survivorship: a golden record's attributes as a pure function of its linked source records and the trust rules.
import type { ReferentialModule } from './module.ts';
import type { GoldenAttributes } from './engine-types.ts';

export interface SurvivorshipSource {
  system: string;
  id: string;
  attributes: Record<string, unknown>;
  receivedAt: Date;
}

const hasValue = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/**
 * Per attribute: the most trusted source system that has a value, then the most recently received, then (only so that
 * the answer never depends on input order) the smallest system/id. Keys come out sorted: equal inputs, equal JSON.
 */
export function survive(sources: readonly SurvivorshipSource[], trust: ReferentialModule['trust']): GoldenAttributes {
  const rank = (attribute: string, system: string): number => {
    const order = trust.attributes?.[attribute] ?? trust.default;
    const i = order.indexOf(system);
    return i === -1 ? order.length : i;
  };
  const names = [...new Set(sources.flatMap((s) => Object.keys(s.attributes)))].sort();
  const result: GoldenAttributes = {};
  for (const name of names) {
    const candidates = sources.filter((s) => hasValue(s.attributes[name]));
    candidates.sort(
      (a, b) =>
        rank(name, a.system) - rank(name, b.system) ||
        b.receivedAt.getTime() - a.receivedAt.getTime() ||
        (a.system < b.system ? -1 : a.system > b.system ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    const winner = candidates[0];
    if (winner) result[name] = { value: winner.attributes[name], source: { system: winner.system, id: winner.id }, at: winner.receivedAt.toISOString() };
  }
  return result;
}

/**
 * `JSON.stringify(survive([source], trust))` and `JSON.stringify(plainValues(…))` of it, without building either: with
 * one source every attribute that has a value is its, with the same provenance (a bulk import's new records, most of
 * them; the objects cost the importer more in garbage collection than the texts do to write).
 */
export function surviveOneJson(source: SurvivorshipSource): { attributes: string; values: string } {
  const provenance = `,"source":${JSON.stringify({ system: source.system, id: source.id })},"at":${JSON.stringify(source.receivedAt.toISOString())}}`;
  const names = Object.keys(source.attributes).filter((name) => hasValue(source.attributes[name])).sort();
  let attributes = '{';
  let values = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const key = `${i === 0 ? '' : ','}${JSON.stringify(name)}:`;
    const value = JSON.stringify(source.attributes[name]);
    attributes += `${key}{"value":${value}${provenance}`;
    values += key + value;
  }
  return { attributes: `${attributes}}`, values: `${values}}` };
}

/** The plain values of golden attributes, what a module's matchProfile and naturalKeys take. */
export function plainValues(attributes: GoldenAttributes): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.value]));
}
