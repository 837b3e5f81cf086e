// Subjects of an exchange (the persons, companies, vehicles it is about): found where the convention says, logged as keyed HMACs.
import { createHmac } from 'node:crypto';
import type { SubjectLocation } from '../conventions/model.ts';

export interface ExtractedSubject {
  type: string;
  /** As found in the request or answer (normalise before comparing or hashing). */
  value: string;
  /** `path.ice`, `query.cin`, `response.owner.cin` (the field path, without array indices). */
  location: string;
}

export interface SubjectInput {
  pathParams: Record<string, string>;
  query: URLSearchParams;
  /** The provider's parsed JSON answer (before minimisation: a subject may be a field the consumer does not receive). */
  responseBody: unknown;
}

/**
 * Every subject value at the convention's locations. Response paths follow the minimiser's dot-path rules and collect
 * every value in arrays; numbers count as values (an ICE may come as one), objects and booleans do not. A value found
 * twice at one location (same normalised form) is reported once.
 */
export function extractSubjects(locations: readonly SubjectLocation[], input: SubjectInput): ExtractedSubject[] {
  const subjects: ExtractedSubject[] = [];
  const seen = new Set<string>();
  const add = (type: string, value: string, location: string) => {
    if (value.trim() === '') return;
    const key = `${type}\u0000${location}\u0000${normaliseSubject(type, value)}`;
    if (seen.has(key)) return;
    seen.add(key);
    subjects.push({ type, value, location });
  };
  for (const { type, in: where, name } of locations) {
    if (where === 'path') {
      const value = input.pathParams[name];
      if (value !== undefined) add(type, value, `path.${name}`);
    } else if (where === 'query') {
      for (const value of input.query.getAll(name)) add(type, value, `query.${name}`);
    } else {
      for (const value of valuesAt(input.responseBody, name.split('.'))) add(type, value, `response.${name}`);
    }
  }
  return subjects;
}

/** Scalar values at a dot path, arrays flattened at every level (including the body itself and the final value). */
function valuesAt(value: unknown, path: readonly string[], found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const element of value) valuesAt(element, path, found);
    return found;
  }
  const [head, ...rest] = path;
  if (head === undefined) {
    if (typeof value === 'string') found.push(value);
    else if (typeof value === 'number' && Number.isFinite(value)) found.push(String(value));
    return found;
  }
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, head)) valuesAt((value as Record<string, unknown>)[head], rest, found);
  return found;
}

/** Identifier types written with separators and mixed case by different administrations. */
const identifierTypes = new Set(['cin', 'ice', 'plate', 'vin', 'rc', 'if', 'cnss']);
/** Spaces (incl. no-break), hyphens and dashes, dots, slashes and bars: the separators seen in CINs, plates and RC numbers. */
const separators = /[\s\u00a0\u2007\u202f\-\u2010-\u2015\u2212._/|]/gu;

/**
 * The one form under which a subject identifier is compared and hashed, so that `ab 123-456` and `AB123456` are the
 * same person in the log. Rule: Unicode NFKC, then trim. For cin, ice, plate, vin, rc, if and cnss also: Arabic-Indic
 * digits to ASCII digits, upper case, and separators removed (whitespace, hyphens/dashes, `.`, `/`, `|`); letters such
 * as the Arabic letter of a plate are kept. Other types (person, company, vehicle: opaque ids) are only trimmed.
 */
export function normaliseSubject(type: string, value: string): string {
  const trimmed = value.normalize('NFKC').trim();
  if (!identifierTypes.has(type.toLowerCase())) return trimmed;
  return trimmed
    .replace(/[\u0660-\u0669]/gu, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06f0-\u06f9]/gu, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(separators, '')
    .toUpperCase();
}

/** HMAC-SHA256 of `type:normalised value`, base64url: the log can link exchanges about one subject without holding it. */
export function subjectHmac(key: Buffer, type: string, value: string): string {
  const normalisedType = type.trim().toLowerCase();
  return createHmac('sha256', key).update(`${normalisedType}:${normaliseSubject(normalisedType, value)}`, 'utf8').digest('base64url');
}
