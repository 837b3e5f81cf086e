// Streaming writers for generated records: NDJSON (one JSON object a line) or CSV (attributes flattened to dotted columns), with back-pressure.

import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { SourceRecord, TruthRow } from './common.ts';
import { sourceRecordColumns } from '../batch-columns.ts';
import { csvRecord } from '../../src/golden/csv.ts';

export type OutputFormat = 'ndjson' | 'csv';

/** CSV columns per file (attributes flattened one level: `rc.number`, `owner.cin`). */
export const CSV_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  ...sourceRecordColumns,
  'ground-truth': ['referential', 'sourceSystem', 'sourceId', 'entityId', 'duplicate', 'variations', 'ownerEntityId'],
};

function lookup(object: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), object);
}

/** One output file; `write` resolves once the stream can take more (bounded memory whatever the row count). */
export class RecordWriter {
  private readonly stream: WriteStream;
  private readonly columns: readonly string[];
  rows = 0;

  constructor(readonly path: string, readonly kind: string, readonly format: OutputFormat) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
    this.columns = CSV_COLUMNS[kind] ?? [];
    if (format === 'csv') {
      const head = kind === 'ground-truth' ? this.columns : ['sourceSystem', 'sourceId', ...this.columns];
      this.stream.write(`${csvRecord(head)}\n`);
    }
  }

  private line(row: SourceRecord | TruthRow): string {
    if (this.format === 'ndjson') return `${JSON.stringify(row)}\n`;
    const object = row as unknown as Record<string, unknown>;
    if ('attributes' in row) {
      const fields = [row.sourceSystem, row.sourceId, ...this.columns.map((c) => lookup(row.attributes, c))];
      return `${csvRecord(fields)}\n`;
    }
    return `${csvRecord(this.columns.map((c) => object[c]))}\n`;
  }

  async write(row: SourceRecord | TruthRow): Promise<void> {
    this.rows++;
    if (!this.stream.write(this.line(row))) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
