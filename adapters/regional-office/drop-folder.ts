// Reading one file from a regional office's outbox: a CSV (the hub's strict reader, src/golden/csv.ts) or an XML batch
// (adapters/regional-office/xml.ts) of its local corrections. A file is all or nothing: every record is checked (its
// columns, the referential's own validation, the office's territory) before any is handed on, and a file with one bad
// record is quarantined whole with a report (line, field, reason). A pure module: it reads the file, never moves it.
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { batchColumns } from '../../referentials/batch-columns.ts';
import { territory } from '../../referentials/territory/territory.ts';
import { CsvError, parseCsv } from '../../src/golden/csv.ts';
import type { ReferentialModule } from '../../src/golden/module.ts';
import { officeReferential as referential } from './office.ts';
import { textFault } from '../../src/storage/storable.ts';
import { communeOf, inScope } from '../../src/sync/scope.ts';
import { officeSourceId, type RegionalOffice } from './office.ts';
import { parseOfficeXml, XmlRefusedError, type XmlNode } from './xml.ts';
import type { InboundRecord as SyncInboundRecord } from '../../src/sync/adapter.ts';

/** One source record as the hub's inbound path takes it (src/sync/adapter.ts), with where in the file it was. */
export type InboundRecord = SyncInboundRecord & { line: number };

export interface DropFileProblem {
  line: number;
  /** The column or element at fault, `file` for the file as a whole. */
  field: string;
  reason: string;
}

/** What `<file>.report.json` holds beside a quarantined file. */
export interface DropFileReport {
  file: string;
  office: string;
  territory: string;
  /** The first problem's kind: malformed, territory, too-large, too-deep, too-many-records, doctype, entity… */
  refused: string;
  problems: DropFileProblem[];
  /** Problems found beyond those listed. */
  omitted: number;
}

export type DropFileRead = { referential: string; records: InboundRecord[] } | { quarantine: DropFileReport };

export interface DropFileLimits {
  maxBytes: number;
  maxDepth: number;
  maxRecords: number;
}

export const defaultDropFileLimits: DropFileLimits = { maxBytes: 8 * 1024 * 1024, maxDepth: 6, maxRecords: 20_000 };

/** At most this many problems in a report: a file of a million bad lines is refused with a bounded report. */
const reportedProblems = 100;

/**
 * The columns (and XML elements, nested ones dotted) an office's file may carry for a referential, besides sourceId
 * and sourceVersion. A vehicle has no commune of its own: the office writes the commune it registered it in
 * (`commune`), which places it in the territory and is not contributed.
 */
export function officeColumns(name: string): readonly string[] | undefined {
  const columns = (batchColumns as Readonly<Record<string, readonly string[]>>)[name];
  if (!columns) return undefined;
  return name === 'vehicles' ? [...columns, 'commune'] : columns;
}

/** A referential's kind of file: `persons-2025-06-01-0003.csv` holds persons. */
export function referentialOfFileName(file: string): string | undefined {
  return /^(persons|companies|vehicles)(?:[-_.]|$)/.exec(basename(file, extname(file)))?.[1];
}

const sourceIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const versionPattern = /^[0-9]{1,18}$/;

class Problems {
  readonly list: DropFileProblem[] = [];
  omitted = 0;
  kind: string | undefined;
  add(kind: string, line: number, field: string, reason: string): void {
    this.kind ??= kind;
    if (this.list.length < reportedProblems) this.list.push({ line, field, reason });
    else this.omitted++;
  }
}

function setPath(object: Record<string, unknown>, path: readonly string[], value: string): void {
  let current = object;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (next === null || typeof next !== 'object') current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[path[path.length - 1] as string] = value;
}

/** A record as read from the file, before its checks. */
interface RawRecord {
  line: number;
  sourceId: string;
  sourceVersion: string;
  attributes: Record<string, unknown>;
}

/**
 * The checks every record of a file passes, whatever its format: its ids, the referential's own validation (every field
 * at fault named), and the office's territory (the record's commune under the office's code). Adds problems; gives the
 * inbound records.
 */
function checkRecords(raw: readonly RawRecord[], module: ReferentialModule, office: RegionalOffice, problems: Problems): InboundRecord[] {
  const seen = new Map<string, number>();
  const records: InboundRecord[] = [];
  for (const r of raw) {
    let ok = true;
    const fail = (kind: string, field: string, reason: string) => {
      ok = false;
      problems.add(kind, r.line, field, reason);
    };
    if (!sourceIdPattern.test(r.sourceId)) fail('malformed', 'sourceId', 'is required: 1 to 64 of A-Z a-z 0-9 . _ : - (a letter or digit first)');
    if (!versionPattern.test(r.sourceVersion)) fail('malformed', 'sourceVersion', 'is required: the office\'s version of the record, a whole number');
    const earlier = seen.get(r.sourceId);
    if (earlier !== undefined) fail('malformed', 'sourceId', `${r.sourceId} is also on line ${earlier}: a file gives each record once`);
    seen.set(r.sourceId, r.line);
    const normalised = module.normalise(r.attributes);
    if (!normalised.ok) {
      for (const p of normalised.problems) fail('malformed', p.location.replace(/^body\./, ''), p.message);
    } else {
      // A vehicle's commune is the office's own column (officeColumns); the others' is an attribute the referential checked.
      let commune = communeOf(normalised.attributes);
      const officeCommune = r.attributes.commune;
      if (commune === undefined && typeof officeCommune === 'string') {
        const resolved = territory().resolve(officeCommune);
        if (!resolved.found || resolved.unit.kind !== 'commune') fail('malformed', 'commune', `${officeCommune} is not a commune code`);
        else commune = resolved.unit.code;
      }
      if (commune === undefined) fail('territory', 'commune', "no commune: an office's record says where in its territory it is");
      else if (!inScope(commune, office.territory)) fail('territory', 'commune', `${commune} is outside the office's territory ${office.territory}`);
    }
    if (ok) records.push({ referential: module.name, sourceSystem: office.sourceSystem, sourceId: officeSourceId(office, r.sourceId), sourceVersion: r.sourceVersion, attributes: r.attributes, line: r.line });
  }
  return records;
}

/** A CSV's records: a header of sourceId, sourceVersion and known columns; each row exactly as many fields. */
function csvRecords(text: string, file: string, columns: readonly string[], limits: DropFileLimits, problems: Problems): RawRecord[] {
  let parsed;
  try {
    parsed = parseCsv(text, file);
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    problems.add('malformed', err.line, 'line', err.detail);
    return [];
  }
  const [header, ...rows] = parsed;
  if (header === undefined) {
    problems.add('malformed', 1, 'header', 'empty file, expected a header');
    return [];
  }
  const names = header.fields.map((f) => f.trim());
  const known = new Set(columns);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) problems.add('malformed', header.line, name, 'column appears twice');
    seen.add(name);
    if (name !== 'sourceId' && name !== 'sourceVersion' && !known.has(name)) problems.add('malformed', header.line, name || 'header', `is not a known column (sourceId, sourceVersion and some of: ${columns.join(', ')})`);
  }
  for (const required of ['sourceId', 'sourceVersion']) if (!seen.has(required)) problems.add('malformed', header.line, required, 'column is missing');
  if (problems.kind) return [];
  if (rows.length > limits.maxRecords) {
    problems.add('too-many-records', (rows[limits.maxRecords] as { line: number }).line, 'file', `more than ${limits.maxRecords} records`);
    return [];
  }
  const out: RawRecord[] = [];
  for (const { line, fields } of rows) {
    if (fields.length !== names.length) {
      problems.add('malformed', line, 'line', `${fields.length} fields, the header has ${names.length} (${names.join(',')})`);
      continue;
    }
    const record: RawRecord = { line, sourceId: '', sourceVersion: '', attributes: {} };
    names.forEach((name, i) => {
      const value = fields[i] ?? '';
      const fault = textFault(value);
      if (fault) problems.add('malformed', line, name, fault);
      if (name === 'sourceId') record.sourceId = value.trim();
      else if (name === 'sourceVersion') record.sourceVersion = value.trim();
      else if (value !== '') setPath(record.attributes, name.split('.'), value);
    });
    out.push(record);
  }
  return out;
}

/** An element's text: a leaf element with no attributes and no children. */
function leafText(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (node !== null && typeof node === 'object' && Object.keys(node).every((k) => k === '_')) return (node as { _?: string })._ ?? '';
  return undefined;
}

/**
 * An XML batch's records: `<corrections office="dr-01" referential="persons">` holding `<record sourceId=""
 * sourceVersion="">` elements, each child a column (`<owner><type>`… for a dotted one), every element given once.
 */
async function xmlRecords(text: string, office: RegionalOffice, columns: readonly string[], referentialName: string | undefined, limits: DropFileLimits, problems: Problems): Promise<{ referential?: string; records: RawRecord[] }> {
  const { scan, rootName, root } = await parseOfficeXml(text, limits);
  if (rootName !== 'corrections' || typeof root !== 'object') {
    problems.add('malformed', 1, rootName, 'the root element is <corrections office="…" referential="…"> holding <record> elements');
    return { records: [] };
  }
  const attrs = root.$ ?? {};
  if (attrs.office !== office.id) problems.add('territory', 1, 'office', `the file is ${attrs.office === undefined ? 'of no office' : `office ${attrs.office}'s`}, not ${office.id}'s`);
  const name = attrs.referential ?? referentialName;
  const known = new Set(columns);
  const out: RawRecord[] = [];
  let index = 0;
  for (const [child, nodes] of Object.entries(root)) {
    if (child === '$' || child === '_') continue;
    for (const node of nodes as XmlNode[]) {
      const line = scan.recordLines[index++] ?? 1;
      if (child !== 'record' || typeof node !== 'object') {
        problems.add('malformed', line, child, 'is not a <record sourceId="…" sourceVersion="…"> element');
        continue;
      }
      const record: RawRecord = { line, sourceId: node.$?.sourceId ?? '', sourceVersion: node.$?.sourceVersion ?? '', attributes: {} };
      const visit = (element: Record<string, unknown>, path: string[]) => {
        for (const [key, values] of Object.entries(element)) {
          if (key === '$' || key === '_') continue;
          const field = [...path, key].join('.');
          const list = values as unknown[];
          if (list.length > 1) problems.add('malformed', line, field, 'is given more than once');
          const value = list[0];
          const leaf = leafText(value);
          if (leaf !== undefined) {
            if (!known.has(field)) problems.add('malformed', line, field, `is not a known element (some of: ${columns.join(', ')})`);
            const fault = textFault(leaf);
            if (fault) problems.add('malformed', line, field, fault);
            else if (leaf.trim() !== '') setPath(record.attributes, field.split('.'), leaf);
          } else if (value !== null && typeof value === 'object' && (value as { $?: unknown }).$ === undefined && columns.some((c) => c.startsWith(`${field}.`))) {
            visit(value as Record<string, unknown>, [...path, key]);
          } else problems.add('malformed', line, field, 'is not a known element (or carries attributes)');
        }
      };
      visit(node, []);
      out.push(record);
    }
  }
  return { ...(name !== undefined ? { referential: name } : {}), records: out };
}

/**
 * Reads one file of `office`'s outbox: its records, every one of them checked, or the report of why it is quarantined
 * (nothing of it is to be applied). Refused before reading: a file over `maxBytes`; before parsing: bytes that are not
 * UTF-8, and in XML a DOCTYPE, an entity, a processing instruction, nesting past `maxDepth`, more than `maxRecords`.
 */
export async function readDropFile(path: string, office: RegionalOffice, limits: DropFileLimits = defaultDropFileLimits): Promise<DropFileRead> {
  const size = (await stat(path)).size;
  // Too large: refused before its bytes are read.
  if (size > limits.maxBytes) return readDropContent(basename(path), { byteLength: size }, office, limits);
  return readDropContent(basename(path), await readFile(path), office, limits);
}

/**
 * The same reading over a file's bytes already in memory (the hub's drop-folder runner hands them to the adapter,
 * adapters/regional-office/adapter.ts). `content` may be only its length when the file is too large to be read.
 */
export async function readDropContent(file: string, content: Uint8Array | { byteLength: number }, office: RegionalOffice, limits: DropFileLimits = defaultDropFileLimits): Promise<DropFileRead> {
  const problems = new Problems();
  const quarantine = (): DropFileRead => ({ quarantine: { file, office: office.id, territory: office.territory, refused: problems.kind ?? 'malformed', problems: problems.list, omitted: problems.omitted } });
  const size = content.byteLength;
  if (size > limits.maxBytes || !(content instanceof Uint8Array)) {
    problems.add('too-large', 0, 'file', `${size} bytes, more than ${limits.maxBytes}`);
    return quarantine();
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    problems.add('not-utf8', 0, 'file', 'is not UTF-8');
    return quarantine();
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const format = extname(file).toLowerCase();
  let name = referentialOfFileName(file);
  let raw: RawRecord[] = [];
  if (format === '.csv') {
    const columns = name ? officeColumns(name) : undefined;
    if (!name || !columns) problems.add('malformed', 0, 'file', 'a CSV file is named after its referential: persons-…, companies-… or vehicles-….csv');
    else raw = csvRecords(text, file, columns, limits, problems);
  } else if (format === '.xml') {
    try {
      const root = /<corrections\b[^>]*\breferential\s*=\s*["']([a-z]+)["']/.exec(text)?.[1];
      const columns = officeColumns(root ?? name ?? '');
      if (!columns) problems.add('malformed', 1, 'referential', 'the root <corrections> names its referential: persons, companies or vehicles');
      else {
        const read = await xmlRecords(text, office, columns, name, limits, problems);
        name = read.referential;
        raw = read.records;
      }
    } catch (err) {
      if (!(err instanceof XmlRefusedError)) throw err;
      problems.add(err.refusal, err.line, 'file', err.reason);
    }
  } else {
    problems.add('malformed', 0, 'file', `${format || 'no extension'}: an office drops .csv or .xml files`);
  }
  const module = name ? referential(name) : undefined;
  if (!problems.kind && !module) problems.add('malformed', 0, 'referential', `${name ?? 'none'}: not a referential`);
  if (problems.kind || !module || !name) return quarantine();
  const records = checkRecords(raw, module, office, problems);
  if (problems.kind) return quarantine();
  return { referential: name, records };
}
