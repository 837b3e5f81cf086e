// A small RFC 4180 CSV reader and writer: strict, and loud about where a file is broken. The referential data files, the
// batch uploads and the CSV the hub writes for people all go through it.

export class CsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    /** What is wrong, without the file:line prefix (a batch reports it as one row's problem). */
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'CsvError';
  }
}

export interface CsvRecord {
  /** 1-based line on which the record starts (a quoted field may span lines). */
  readonly line: number;
  readonly fields: readonly string[];
}

/** One record as `readCsvRecord` found it: its fields, where the next record starts, and the line that one is on. */
export interface CsvRecordRead {
  readonly fields: string[];
  readonly next: number;
  readonly nextLine: number;
}

/**
 * Reads the record that starts at `start` in `text` (on line `line`), up to and including its line end (CRLF, LF or
 * CR) or the end of the text. Throws `CsvError` with file:line on a quote inside an unquoted field or text after a
 * closing quote. A quoted field still open at the end of the text throws 'unterminated quoted field' when `final`,
 * and otherwise gives `undefined` (a reader that is given the file a line at a time waits for the next line).
 */
export function readCsvRecord(text: string, start: number, file: string, line: number, final = true): CsvRecordRead | undefined {
  const fields: string[] = [];
  let field = '';
  let i = start;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      if (field !== '') throw new CsvError(file, line, `quote inside an unquoted field (after "${field}")`);
      const openedAt = line;
      i++;
      for (;;) {
        if (i >= text.length) {
          if (final) throw new CsvError(file, openedAt, 'unterminated quoted field');
          return undefined;
        }
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      const after = text[i];
      if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
        throw new CsvError(file, line, `unexpected ${JSON.stringify(after)} after a closing quote`);
      }
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      fields.push(field);
      return { fields, next: i + (ch === '\r' && text[i + 1] === '\n' ? 2 : 1), nextLine: line + 1 };
    }
    field += ch;
    i++;
  }
  fields.push(field);
  return { fields, next: i, nextLine: line };
}

/**
 * Splits CSV text into records (RFC 4180: comma separator, CRLF or LF line ends, double-quoted fields that may
 * hold commas, quotes doubled as "" and line breaks). A leading UTF-8 BOM is ignored; a final line end is
 * optional; any other blank line is a record of one empty field (which a table then rejects). Throws `CsvError` with file:line on an unterminated
 * quote, a quote inside an unquoted field, or text after a closing quote.
 */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    // `final`: the whole file is here, so an open quote at its end is an error, never undefined.
    const record = readCsvRecord(src, i, file, line) as CsvRecordRead;
    records.push({ line, fields: record.fields });
    i = record.next;
    line = record.nextLine;
  }
  return records;
}

/**
 * Parses a CSV file whose first record is a header, requiring exactly `columns` in that order, and returns one
 * object per data row with its line number. Throws `CsvError` on a header mismatch or a row with the wrong
 * number of fields.
 */
export function parseCsvTable<const C extends string>(
  text: string,
  file: string,
  columns: readonly C[],
): Array<{ line: number; row: Record<C, string> }> {
  const [header, ...rows] = parseCsv(text, file);
  if (header === undefined) throw new CsvError(file, 1, 'empty file, expected a header');
  if (header.fields.join(',') !== columns.join(',')) {
    throw new CsvError(file, header.line, `header is "${header.fields.join(',')}", expected "${columns.join(',')}"`);
  }
  return rows.map(({ line, fields }) => {
    if (fields.length !== columns.length) {
      throw new CsvError(file, line, `${fields.length} fields, expected ${columns.length} (${columns.join(',')})`);
    }
    const row = {} as Record<C, string>;
    columns.forEach((column, index) => {
      row[column] = fields[index] ?? '';
    });
    return { line, row };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** A plain decimal number: a spreadsheet reads it as a number, never as a formula, so it is written unchanged. */
const plainNumber = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** What a spreadsheet takes as the start of a formula (OWASP, "CSV injection"), a tab and a carriage return included. */
const formulaStart = /^[=+\-@\t\r]/;

/**
 * One field as every CSV the hub writes must hold it: a value a spreadsheet would run as a formula (`=HYPERLINK(...)`,
 * `+cmd|' /C calc'!A0`, `@SUM(...)`, a leading tab or CR) is prefixed with a single quote, as OWASP recommends, so
 * that it is shown, not evaluated; then quoted per RFC 4180 when it holds a quote, comma or line break. The hub stores
 * what it was given (fidelity); only what it writes for people to open is neutralised.
 */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = Array.isArray(value) ? value.join(';') : String(value);
  if (formulaStart.test(text) && !plainNumber.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record (no line end): each field through `csvField`. */
export function csvRecord(values: readonly unknown[]): string {
  return values.map(csvField).join(',');
}
