// A convention on disk: its YAML (YAML 1.2 core schema, validated), where it must live, its OpenAPI digest, and the signed payload.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { jsonFaults, locationOf } from '../storage/storable.ts';
import { isMap, isPair, isScalar, isSeq, parseDocument, Scalar, visit } from 'yaml';
import { toFolderName } from '../identity/ids.ts';
import { canonicalBytes, type JsonValue } from './canonical-json.ts';
import { conventionSchema, type Convention } from './model.ts';

/** The convention exactly as a YAML 1.2 core-schema parser yields it, without defaults: the data model that is signed. */
export type ConventionData = { [key: string]: JsonValue };

/** A convention file that cannot be used, with one precise problem per line (field paths like `operations.0.operationId`). */
export class ConventionDocumentError extends Error {
  override name = 'ConventionDocumentError';
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`${path}: ${problems.join('; ')}`);
  }
}

/**
 * A document no signer could have meant: aliases that expand beyond bounds (a "billion laughs"), text that cannot be
 * stored (U+0000, a lone surrogate) or nesting beyond bounds. Refused as a request, not reported as a failed verification.
 */
export class ConventionHostileError extends ConventionDocumentError {
  override name = 'ConventionHostileError';
}

export interface ConventionPaths {
  /** Absolute path of contracts/<provider>/<service>/conventions/<consumer>.yaml */
  yamlPath: string;
  /** The General JSON JWS beside it: same name, .jws */
  jwsPath: string;
  /** The service's OpenAPI document: ../openapi.yaml from the conventions folder */
  openapiPath: string;
}

export function conventionPaths(yamlPath: string): ConventionPaths {
  const absolute = resolve(yamlPath);
  return {
    yamlPath: absolute,
    jwsPath: absolute.replace(/\.yaml$/, '') + '.jws',
    openapiPath: join(dirname(dirname(absolute)), 'openapi.yaml'),
  };
}

// Zod 4 says "Invalid input: expected string, received undefined" for a missing field; "Required" is what an author needs.
const issueMessages = { error: (issue: { code: string; input?: unknown }) => (issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined) };

// YAML 1.1's timestamp pattern (yaml.org/type/timestamp.html): what a 1.1 parser would turn into a date object.
const yaml11Timestamp = /^(\d{4}-\d\d-\d\d|\d{4}-\d\d?-\d\d?([Tt]|[ \t]+)\d\d?:\d\d:\d\d(\.\d*)?([ \t]*(Z|[-+]\d\d?(:\d\d)?))?)$/;

/**
 * Parses and validates a convention's YAML text. Returns the signed data model (no defaults) and the validated
 * convention (defaults applied); throws ConventionDocumentError listing every problem, each naming its field.
 */
export function parseConventionYaml(text: string, source = 'convention'): { data: ConventionData; convention: Convention } {
  // Core schema: YAML 1.2's JSON-compatible types only (no timestamps, no yes/no booleans), which every language's
  // YAML 1.2 parser agrees on. Warnings (an unknown tag, say) are problems too: another parser might read them otherwise.
  const doc = parseDocument(text, { schema: 'core', prettyErrors: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => `YAML: ${e.message.split('\n')[0] ?? e.message}`);
  if (problems.length > 0) throw new ConventionDocumentError(source, problems);
  if (!isMap(doc.contents)) throw new ConventionDocumentError(source, ['YAML: the document must be a mapping (id: …, version: …)']);

  visit(doc, {
    Pair(_key, pair, path) {
      // Keys must be plain strings: `1:` or `[a]:` are keys of other types, which JSON (and hence JCS) cannot hold as such.
      if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
        problems.push(`YAML: a key that is not a string (${String(isScalar(pair.key) ? pair.key.value : pair.key)}) at ${fieldPath(path).join('.') || '(document)'}: quote it`);
        return;
      }
      // An unquoted date is a string to a YAML 1.2 core parser but a timestamp to YAML 1.1 parsers (PyYAML, SnakeYAML…):
      // signers in other languages would canonicalise different bytes, so dates must be quoted (spec: "write them quoted").
      if (isScalar(pair.value) && pair.value.type === Scalar.PLAIN && typeof pair.value.value === 'string' && yaml11Timestamp.test(pair.value.value)) {
        problems.push(`${[...fieldPath(path), pair.key.value].join('.')}: must be quoted ("${pair.value.value}"): a YAML 1.1 parser would read an unquoted date as a timestamp`);
      }
    },
  });
  if (problems.length > 0) throw new ConventionDocumentError(source, problems);

  // maxAliasCount (default 100) bounds alias expansion, so a small file cannot expand into a huge one.
  let data: ConventionData;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) as ConventionData;
  } catch (err) {
    // The yaml package throws a ReferenceError when the aliases expand beyond maxAliasCount.
    if (err instanceof ReferenceError || err instanceof RangeError) throw new ConventionHostileError(source, ['YAML: its aliases expand beyond 100 nodes (refused as a resource exhaustion attack)']);
    throw err;
  }
  const faults = jsonFaults(data);
  if (faults.length > 0) throw new ConventionHostileError(source, faults.map((f) => `${locationOf('', f.path) || '(document)'}: ${f.message}`));
  const result = conventionSchema.safeParse(data, issueMessages);
  if (!result.success) {
    const fieldProblems = result.error.issues.flatMap((issue) => {
      const at = issue.path.map(String);
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${[...at, key].join('.')}: Unrecognized field`);
      return [`${at.length > 0 ? at.join('.') : '(document)'}: ${issue.message}`];
    });
    throw new ConventionDocumentError(source, fieldProblems);
  }
  return { data, convention: result.data };
}

// The field path of a node's ancestors, for messages: ['operations', '0'].
function fieldPath(path: readonly unknown[]): string[] {
  const parts: string[] = [];
  path.forEach((node, i) => {
    if (isPair(node)) parts.push(isScalar(node.key) ? String(node.key.value) : '?');
    else if (isSeq(node)) parts.push(String(node.items.indexOf(path[i + 1] as (typeof node.items)[number])));
  });
  return parts;
}

/** base64url (no padding) of SHA-256 over the OpenAPI file's exact bytes: what conventions sign and /meta/v1/services lists. */
export function openapiDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/** The payload that every party signs: RFC 8785 canonical JSON of the convention's data model plus openapiDigest. */
export function signedPayload(data: ConventionData, digest: string): Uint8Array {
  // The schema is strict, so the YAML cannot carry an openapiDigest of its own that this would overwrite.
  return canonicalBytes({ ...data, openapiDigest: digest });
}

/** Problems with where the file lives: its folders must name the provider, the service and the consumer that it declares. */
export function locationProblems(paths: ConventionPaths, convention: Pick<Convention, 'provider' | 'service' | 'consumer'>): string[] {
  const conventionsDir = dirname(paths.yamlPath);
  const serviceDir = dirname(conventionsDir);
  const providerDir = dirname(serviceDir);
  const where = `it declares provider ${convention.provider}, service ${convention.service}, consumer ${convention.consumer}, so it belongs at <contracts>/${toFolderName(convention.provider)}/${convention.service}/conventions/${toFolderName(convention.consumer)}.yaml`;
  const problems: string[] = [];
  if (!paths.yamlPath.endsWith('.yaml')) problems.push(`file location: the file name must end in .yaml (${where})`);
  if (basename(conventionsDir) !== 'conventions') problems.push(`file location: its folder is ${JSON.stringify(basename(conventionsDir))}, not "conventions" (${where})`);
  if (basename(serviceDir) !== convention.service) problems.push(`file location: the service folder is ${JSON.stringify(basename(serviceDir))}, but service is ${JSON.stringify(convention.service)} (${where})`);
  if (basename(providerDir) !== toFolderName(convention.provider)) {
    problems.push(`file location: the provider folder is ${JSON.stringify(basename(providerDir))}, but provider ${convention.provider} is written ${JSON.stringify(toFolderName(convention.provider))} (${where})`);
  }
  const file = basename(paths.yamlPath);
  if (file !== `${toFolderName(convention.consumer)}.yaml`) {
    problems.push(`file location: the file is named ${JSON.stringify(file)}, but consumer ${convention.consumer} is written ${JSON.stringify(`${toFolderName(convention.consumer)}.yaml`)} (${where})`);
  }
  return problems;
}

/** Everything about a convention that its files say, checked: valid YAML, right place, OpenAPI present. */
export interface ConventionDocument {
  paths: ConventionPaths;
  data: ConventionData;
  convention: Convention;
  /** The OpenAPI file's exact bytes. */
  openapi: Buffer;
  openapiDigest: string;
  /** The bytes that the JWS must carry as its payload. */
  payload: Uint8Array;
}

/** Reads and checks a convention YAML and its service's OpenAPI file; throws ConventionDocumentError with precise problems. */
export function readConventionDocument(yamlPath: string): ConventionDocument {
  const paths = conventionPaths(yamlPath);
  if (!existsSync(paths.yamlPath)) throw new ConventionDocumentError(paths.yamlPath, ['no such file']);
  const { data, convention } = parseConventionYaml(readFileSync(paths.yamlPath, 'utf8'), paths.yamlPath);
  const misplaced = locationProblems(paths, convention);
  if (misplaced.length > 0) throw new ConventionDocumentError(paths.yamlPath, misplaced);
  if (!existsSync(paths.openapiPath)) {
    throw new ConventionDocumentError(paths.yamlPath, [`the service's OpenAPI document ${paths.openapiPath} does not exist (it must sit in the service folder, above conventions/)`]);
  }
  const openapi = readFileSync(paths.openapiPath);
  const digest = openapiDigest(openapi);
  return { paths, data, convention, openapi, openapiDigest: digest, payload: signedPayload(data, digest) };
}
