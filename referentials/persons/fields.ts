// Field readers shared by the persons, companies and vehicles modules: each records a problem and carries on, so normalise names every field at fault.

import { territory } from '../territory/territory.ts';
import type { FieldProblem } from '../../src/golden/module.ts';

/** The word after the field name in a dropped field's warning. */
export const DROPPED = 'dropped:';

/** Collects problems and warnings while a contribution's fields are read one by one. */
export class FieldReader {
  readonly problems: FieldProblem[] = [];
  readonly warnings: string[] = [];
  private readonly body: Record<string, unknown>;

  constructor(input: unknown) {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      this.problems.push({ location: 'body', message: 'attributes must be a JSON object' });
      this.body = {};
    } else {
      this.body = input as Record<string, unknown>;
    }
  }

  fail(field: string, message: string): undefined {
    this.problems.push({ location: `body.${field}`, message });
    return undefined;
  }

  warn(field: string, message: string): void {
    this.warnings.push(`${field}: ${message}`);
  }

  /** A field left out of the record, the record kept: a warning that starts `<field>: dropped:` (the import counts them). */
  drop(field: string, why: string): void {
    this.warnings.push(`${field}: ${DROPPED} ${why}`);
  }

  /** The raw value; undefined for absent, null or blank strings. */
  raw(field: string): unknown {
    const value = field.includes('.')
      ? field.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), this.body)
      : this.body[field];
    if (value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
    return value;
  }

  /** A trimmed string with spaces collapsed, at most `max` characters. */
  text(field: string, max = 200): string | undefined {
    const value = this.raw(field);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return this.fail(field, `must be a string, not ${typeof value}`);
    // Most values are printable ASCII words between single spaces, which normalising and collapsing leave as they are.
    const out = PLAIN_TEXT.test(value) ? value : value.normalize('NFC').replace(/\s+/gu, ' ').trim();
    if (out.length > max) return this.fail(field, `at most ${max} characters; got ${out.length}`);
    return out;
  }

  oneOf<V extends string>(field: string, allowed: readonly V[], aliases: Readonly<Record<string, V>> = {}): V | undefined {
    const value = this.text(field, 60);
    if (value === undefined) return undefined;
    const lower = value.toLowerCase();
    const found = allowed.find((a) => a.toLowerCase() === lower) ?? aliases[lower];
    return found ?? this.fail(field, `must be one of ${allowed.join(', ')}; got '${value}'`);
  }

  /** An ISO calendar date YYYY-MM-DD that exists; `past` refuses dates after today (UTC). */
  date(field: string, options: { past?: boolean; min?: string } = {}): string | undefined {
    const value = this.text(field, 40);
    if (value === undefined) return undefined;
    const problem = dateProblem(value, options);
    return problem === undefined ? value : this.fail(field, problem);
  }

  /**
   * A commune code resolved through the territory index; a 2014 code is mapped to today's, with a warning. With
   * `dropUnknown`, a code that does not resolve to a commune is dropped with a warning instead of refusing the
   * record: real systems hold stale codes, and one bad field must not lose a person (issue 18).
   */
  commune(field: string, options: { dropUnknown?: boolean } = {}): string | undefined {
    const value = this.raw(field);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return this.fail(field, `a commune code is a string such as 01.511.01.01, not ${typeof value}`);
    const resolved = territory().resolve(value);
    const unusable = !resolved.found ? resolved.message : resolved.unit.kind !== 'commune' ? `${value} is a ${resolved.unit.kind} code, not a commune code` : undefined;
    if (unusable !== undefined && options.dropUnknown) {
      this.drop(field, unusable);
      return undefined;
    }
    if (!resolved.found) return this.fail(field, resolved.message);
    if (resolved.unit.kind !== 'commune') return this.fail(field, `${value} is a ${resolved.unit.kind} code, not a commune code`);
    if (resolved.via === 'crosswalk-2014') {
      this.warn(field, `2014 commune code ${value} mapped to today's ${resolved.unit.code} (${resolved.unit.nameFr}; ${resolved.crosswalk.method})`);
    }
    return resolved.unit.code;
  }
}

/** Printable ASCII words between single spaces: a text that normalize('NFC'), collapsing spaces and trim() leave as it is. */
const PLAIN_TEXT = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/** Today's date (UTC), YYYY-MM-DD: asked of every dated field (a bulk import's million), computed once a millisecond. */
export function todayIso(): string {
  const now = Date.now();
  if (now !== today.at) today = { at: now, iso: new Date(now).toISOString().slice(0, 10) };
  return today.iso;
}

let today = { at: Number.NaN, iso: '' };

/** Why `value` is not an acceptable ISO date, or undefined when it is one. */
export function dateProblem(value: string, options: { past?: boolean; min?: string } = {}): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return `a date is written YYYY-MM-DD (ISO 8601); got '${value}'`;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return `${value} is not a calendar date`;
  if (options.min !== undefined && value < options.min) return `${value} is before ${options.min}`;
  if (options.past && value > todayIso()) return `${value} is in the future`;
  return undefined;
}

/** Records an identifier rule's result: the value, its warnings, or a problem naming the field. */
export function identifier<T>(reader: FieldReader, field: string, result: { ok: true; value: T; warnings: string[] } | { ok: false; message: string }): T | undefined {
  if (!result.ok) return reader.fail(field, result.message);
  for (const w of result.warnings) reader.warn(field, w);
  return result.value;
}
