// The prefecture (or province) codes on plates issued since 2000, read once from data/plate_prefecture_codes.csv
// (sources and doubts: data/README.md).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCsv as parseCsvRecords } from '../../src/golden/csv.ts';

export interface PlatePrefecture {
  code: number;
  /** The issuing prefecture or province; null when no source names it (88, 89). */
  name: string | null;
  /** Two sources agree (1–70), one source only (71–87), or found in none (88, 89). */
  confidence: 'two-sources' | 'one-source' | 'unverified';
  sources: string;
}

/** The file's records, the header included, through the hub's one strict CSV reader. */
export function parseCsv(text: string): string[][] {
  return parseCsvRecords(text, 'plate_prefecture_codes.csv').map((record) => [...record.fields]);
}

/** Builds the code table from the CSV text; throws on a malformed file (it ships with the code, so that is a bug). */
export function loadPlatePrefectures(csv: string): ReadonlyMap<number, PlatePrefecture> {
  const [header, ...rows] = parseCsv(csv);
  if (header?.join(',') !== 'plate_code,issuing_prefecture_or_province,sources') {
    throw new Error(`plate_prefecture_codes.csv: unexpected header ${JSON.stringify(header)}`);
  }
  const table = new Map<number, PlatePrefecture>();
  for (const [codeText = '', nameText = '', sources = ''] of rows) {
    const code = Number(codeText);
    if (!/^[0-9]{1,2}$/.test(codeText) || table.has(code)) throw new Error(`plate_prefecture_codes.csv: bad or repeated code '${codeText}'`);
    const unverified = nameText.startsWith('UNVERIFIED') || sources.trim() === '';
    table.set(code, {
      code,
      name: unverified ? null : nameText,
      confidence: unverified ? 'unverified' : sources.includes(' only') ? 'one-source' : 'two-sources',
      sources,
    });
  }
  return table;
}

const csvPath = fileURLToPath(new URL('./data/plate_prefecture_codes.csv', import.meta.url));

/** Plate prefecture codes 1–89, by code. */
export const platePrefectures: ReadonlyMap<number, PlatePrefecture> = loadPlatePrefectures(readFileSync(csvPath, 'utf8'));

export function platePrefecture(code: number): PlatePrefecture | undefined {
  return platePrefectures.get(code);
}
