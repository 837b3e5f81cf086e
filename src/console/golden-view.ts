// How the console shows a golden record: its attributes flattened to one line each (nested ones in dot notation, as
// batch columns name them), with the source and date that won each, and the words a steward recognises it by.
import type { GoldenAttributes } from '../golden/engine-types.ts';

export interface AttributeLine {
  /** `firstNameLatin`, `rc.number`, `owner.cin`. */
  path: string;
  /** The value as text (arrays and objects that are not nested attributes as JSON). */
  text: string;
  sourceSystem: string;
  sourceId: string;
  at: string;
}

function flatten(prefix: string, value: unknown, out: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
    return;
  }
  out.push([prefix, typeof value === 'string' ? value : JSON.stringify(value)]);
}

/** One line per attribute leaf, in path order; each with the source and instant of the attribute that holds it. */
export function attributeLines(attributes: GoldenAttributes): AttributeLine[] {
  const lines: AttributeLine[] = [];
  for (const [name, attribute] of Object.entries(attributes)) {
    const leaves: Array<[string, string]> = [];
    flatten(name, attribute.value, leaves);
    for (const [path, text] of leaves) lines.push({ path, text, sourceSystem: attribute.source.system, sourceId: attribute.source.id, at: attribute.at });
  }
  return lines.sort((a, b) => a.path.localeCompare(b.path));
}

/** Attribute paths → text, for comparing two records field by field. */
export function valuesByPath(attributes: GoldenAttributes): Map<string, string> {
  return new Map(attributeLines(attributes).map((l) => [l.path, l.text]));
}

const titleFields: Record<string, readonly (readonly string[])[]> = {
  persons: [['firstNameLatin', 'lastNameLatin'], ['firstNameArabic', 'lastNameArabic'], ['cin']],
  companies: [['nameFr'], ['nameAr'], ['ice']],
  vehicles: [['plate'], ['vin']],
};

/**
 * What a record is called in a list: its Latin name and its Arabic one where both exist (each shown in its own
 * direction by the page), else an identifier. Never empty: the id stands in when nothing else does.
 */
export function recordNames(referential: string, attributes: GoldenAttributes, id: string): string[] {
  const values = valuesByPath(attributes);
  const names = (titleFields[referential] ?? [])
    .map((fields) => fields.map((f) => values.get(f)).filter((v): v is string => v !== undefined && v !== '').join(' '))
    .filter((n) => n !== '');
  return names.length > 0 ? names.slice(0, 2) : [id];
}
