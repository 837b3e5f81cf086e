// A small RFC 4180 CSV reader for the referential data files: strict, and loud about where a file is broken.

export class CsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
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

/**
 * Splits CSV text into records (RFC 4180: comma separator, CRLF or LF line ends, double-quoted fields that may
 * hold commas, quotes doubled as "" and line breaks). A leading UTF-8 BOM is ignored; a final line end is
 * optional; any other blank line is a record of one empty field (which a table then rejects). Throws `CsvError` with file:line on an unterminated
 * quote, a quote inside an unquoted field, or text after a closing quote.
 */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  // Whether the current record has started (so that "a,\n" yields ['a', ''] but the end of text adds nothing).
  let started = false;

  const endField = (): void => {
    fields.push(field);
    field = '';
  };
  const endRecord = (): void => {
    endField();
    records.push({ line: recordLine, fields });
    fields = [];
    started = false;
  };

  while (i < src.length) {
    const ch = src[i];
    if (!started) {
      started = true;
      recordLine = line;
    }
    if (ch === '"') {
      if (field !== '') throw new CsvError(file, line, `quote inside an unquoted field (after "${field}")`);
      const openedAt = line;
      i++;
      for (;;) {
        if (i >= src.length) throw new CsvError(file, openedAt, 'unterminated quoted field');
        const q = src[i];
        if (q === '"') {
          if (src[i + 1] === '"') {
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
      const after = src[i];
      if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
        throw new CsvError(file, line, `unexpected ${JSON.stringify(after)} after a closing quote`);
      }
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    field += ch;
    i++;
  }
  if (started) endRecord();
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
