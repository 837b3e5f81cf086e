// `tabadol import FILE --referential persons [--source SYSTEM]`: contributes a large CSV or NDJSON file straight
// through the golden-record engine (not the queue), with a progress bar and a summary. Two passes over the file, each
// streamed in bounded memory: the first checks everything that refuses the file as a whole (UTF-8 anywhere in it, the
// CSV header) and counts its rows, before the database is even opened; the second contributes chunk by chunk, each
// chunk one set-based transaction (src/golden/bulk.ts). On PostgreSQL the next chunk is read, prepared and
// decided while the database writes the previous one (src/golden/bulk-pipeline.ts); on the embedded database,
// which has one connection, it is read while the previous one is applied.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { assignChangePositions } from '../../golden/changes.ts';
import { BatchLineParser, BatchRefusedError, type BatchFormat, type BatchRow } from '../../golden/batches.ts';
import { contributePrepared } from '../../golden/bulk.ts';
import { prepareBulkSliced, type BulkOutcome, type BulkRow, type PreparedBulk } from '../../golden/bulk-prepare.ts';
import { contributePipelined } from '../../golden/bulk-pipeline.ts';
import type { ContributionDecision } from '../../golden/engine-types.ts';
import { countNdjsonRows, NotUtf8Error } from '../ndjson-count.ts';
import { action, CliRefusalError, printLines, withConfigOption, withDatabase, type CliDeps } from '../run.ts';

type ImportOpts = { config?: string; referential: string; source?: string; format?: BatchFormat; batchSize: number };


/**
 * The file's lines, decoded strictly chunk by chunk (a sequence cut between two chunks is fine), without the line
 * break, a block of lines per chunk read (a line at a time, each would cost the promises of two async generators).
 */
async function* fileLines(path: string): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let line = 1;
  const split = (text: string): string[] => {
    const parts = (rest + text).split('\n');
    rest = parts.pop() ?? '';
    line += parts.length;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (part.endsWith('\r')) parts[i] = part.slice(0, -1);
    }
    return parts;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    let text: string;
    try {
      text = decoder.decode(chunk as Buffer, { stream: true });
    } catch {
      // The line of the first invalid sequence: count the line breaks before it in a lenient decoding of the chunk.
      const lenient = (rest + new TextDecoder('utf-8').decode(chunk as Buffer)).split('\uFFFD')[0] ?? '';
      throw new NotUtf8Error(line + (lenient.match(/\n/g)?.length ?? 0));
    }
    yield split(text);
  }
  let last: string;
  try {
    last = decoder.decode();
  } catch {
    throw new NotUtf8Error(line);
  }
  yield split(last);
  if (rest !== '') yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
}

/** Every row of the file in order, a block at a time (lines that cannot be a contribution come as rows with problems). */
async function* fileRows(path: string, format: BatchFormat, columns: readonly string[] | undefined): AsyncGenerator<BatchRow[]> {
  const parser = new BatchLineParser(format, columns);
  let n = 0;
  for await (const lines of fileLines(path)) {
    const rows: BatchRow[] = [];
    for (const text of lines) {
      const row = parser.push(text, ++n);
      if (row) rows.push(row);
    }
    yield rows;
  }
  const last = parser.end();
  if (last) yield [last];
}

/**
 * The rows pass 2 will contribute: a CSV is parsed (its header checked, quoted fields may span lines); an NDJSON file
 * has a row per line that is not blank, and what a line holds is that row's business (a line that is not a JSON
 * object is a rejected row, reported with its number), so its lines are only counted, on the bytes (ndjson-count.ts).
 */
async function countRows(path: string, format: BatchFormat, columns: readonly string[] | undefined): Promise<number> {
  if (format === 'ndjson') return countNdjsonRows(path);
  let total = 0;
  for await (const rows of fileRows(path, format, columns)) total += rows.length;
  return total;
}

function parseBatchSize(value: string): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private lastDraw = 0;
  private printed = 0;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly every: number,
  ) {}

  update(done: number): void {
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const share = this.total === 0 ? 1 : done / this.total;
      const width = 30;
      const filled = Math.round(share * width);
      const rate = done / Math.max(0.001, (now - this.started) / 1000);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${done}/${this.total} rows ${rate.toFixed(0)}/s `);
    } else if (Math.floor(done / this.every) > Math.floor(this.printed / this.every) || (done === this.total && this.printed !== done)) {
      this.printed = done;
      process.stderr.write(`${done}/${this.total} rows\n`);
    }
  }

  finish(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

/**
 * The `import` command. Long (about 130 lines) because it is one command's declaration and its action read in order:
 * options, the two passes over the file (count, then contribute in chunks), progress and the report; the row reading
 * and the progress display are already their own functions above.
 */
export function registerImportCommand(program: Command, deps: CliDeps): void {
  withConfigOption(program.command('import').argument('<file>', 'a CSV (header: sourceId and attribute columns) or NDJSON ({"sourceId", "attributes"} a line) file'))
    .description('contribute a file of source records to a referential, straight through the engine')
    .requiredOption('--referential <name>', 'persons, companies, vehicles or territory')
    .option('--source <system>', "the source system of every row (default: each row's own sourceSystem field or column)")
    .addOption(new Option('--format <format>', 'the file format (default: from the file name, .csv or else ndjson)').choices(['ndjson', 'csv']))
    .option('--batch-size <n>', 'rows per transaction, and between progress lines when stderr is not a terminal', parseBatchSize, 5000)
    .action(
      action(async (file: string, opts: ImportOpts) => {
        const module = deps.referentials.module(opts.referential);
        if (!module) throw new CliRefusalError([`--referential ${opts.referential}: unknown (known: ${deps.referentials.names().join(', ') || 'none'})`]);
        const source = opts.source?.trim();
        if (opts.source !== undefined && !source) throw new CliRefusalError(['--source: must not be empty']);
        try {
          if (!(await stat(file)).isFile()) throw new CliRefusalError([`${file}: is not a file`]);
        } catch (err) {
          if (err instanceof CliRefusalError) throw err;
          throw new CliRefusalError([`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
        }
        const format: BatchFormat = opts.format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
        const columns = module.batchColumns;

        // Pass 1, nothing written: the whole file is UTF-8, the CSV header is right; count the rows.
        let total = 0;
        try {
          total = await countRows(file, format, columns);
        } catch (err) {
          if (err instanceof NotUtf8Error) throw new CliRefusalError([`${file}: ${err.message}; nothing was imported`]);
          if (err instanceof BatchRefusedError) throw new CliRefusalError([`${file}: the ${format.toUpperCase()} is refused; nothing was imported:`, ...err.problems.map((p) => `- ${p.location}: ${p.message}`), ...(err.omitted > 0 ? [`- and ${err.omitted} more`] : [])]);
          throw err;
        }

        const config = deps.readConfig(opts.config);
        const started = Date.now();
        const counts: Record<ContributionDecision, number> = { created: 0, updated: 0, unchanged: 0, 'linked-identifier': 0, 'linked-score': 0, review: 0 };
        let rejected = 0;
        const reasons: string[] = [];
        const reject = (line: number, sourceId: string | undefined, problems: Array<{ location: string; message: string }>) => {
          rejected++;
          if (reasons.length < 20) reasons.push(`    line ${line}${sourceId ? ` (${sourceId})` : ''}: ${problems.map((p) => (p.location === 'line' ? p.message : `${p.location}: ${p.message}`)).join('; ')}`);
        };
        // Rows kept with a field dropped (an unknown commune code, an invalid CIN): counted, the first ones shown.
        let dropped = 0;
        const droppedLines: string[] = [];
        const tally = (outcomes: readonly BulkOutcome[]) => {
          for (const o of outcomes) {
            if (o.ok) {
              counts[o.decision]++;
              const fields = o.warnings.filter((w) => w.includes(': dropped:'));
              if (fields.length > 0) {
                dropped++;
                if (droppedLines.length < 10) droppedLines.push(`    line ${o.line} (${o.sourceId}): ${fields.join('; ')}`);
              }
            } else reject(o.line, o.sourceId, o.problems);
          }
        };
        let pipelined: string | undefined;
        await withDatabase(config, undefined, async (db) => {
          process.stderr.write(`${file}: ${total} row(s) checked; contributing them to ${module.name}, ${opts.batchSize} per transaction\n`);
          const progress = new Progress(total, opts.batchSize);
          let done = 0;
          // The file's chunks, validated and prepared (match keys, JSON) as they are read.
          const chunks = async function* (): AsyncGenerator<PreparedBulk> {
            let chunk: BulkRow[] = [];
            for await (const rows of fileRows(file, format, columns)) {
              for (const row of rows) {
                if ('problems' in row) {
                  reject(row.line, row.sourceId, row.problems);
                  done++;
                  continue;
                }
                const system = source ?? row.sourceSystem;
                if (!system) {
                  reject(row.line, row.sourceId, [{ location: 'sourceSystem', message: 'is required when --source is not given' }]);
                  done++;
                  continue;
                }
                chunk.push({ line: row.line, sourceSystem: system, sourceId: row.sourceId, attributes: row.attributes });
                if (chunk.length >= opts.batchSize) {
                  yield await prepareBulkSliced(module, chunk);
                  chunk = [];
                }
              }
            }
            if (chunk.length > 0) yield await prepareBulkSliced(module, chunk);
          };
          const counted = (outcomes: readonly BulkOutcome[]) => {
            tally(outcomes);
            done += outcomes.length;
            progress.update(done);
          };
          if (db.driver === 'pg') {
            // Each chunk is decided while the previous one is written (src/golden/bulk-pipeline.ts). The change
            // feed is numbered after each commit by the one assigner (src/golden/changes.ts), beside the next
            // chunk's transaction rather than before it (it numbers committed changes only); one at a time, and all
            // numbered before the command ends.
            let numbering: Promise<void> = Promise.resolve();
            let numberingFailed: { error: unknown } | undefined;
            const stats = await contributePipelined(db, chunks(), {
              committed: async (outcomes) => {
                counted(outcomes);
                numbering = numbering.then(async () => {
                  if (!numberingFailed) await assignChangePositions(db);
                }).catch((error: unknown) => {
                  numberingFailed ??= { error };
                });
              },
            });
            await numbering;
            if (numberingFailed) throw numberingFailed.error;
            pipelined = `  pipelined       ${stats.overlapped} of ${stats.chunks} chunk(s) decided while the previous one was written` + (stats.redecided > 0 ? ` (${stats.redecided} decided again: the referential changed meanwhile)` : '');
          } else {
            // One connection: each chunk commits before the next starts; the next is read meanwhile.
            let inFlight: Promise<void> | undefined;
            for await (const prepared of chunks()) {
              await inFlight;
              inFlight = contributePrepared(db, prepared, { assignPositions: false }).then(async (outcomes) => {
                counted(outcomes);
                await assignChangePositions(db);
              });
            }
            await inFlight;
          }
          progress.update(total);
          progress.finish();
        });
        const elapsed = (Date.now() - started) / 1000;
        const seconds = elapsed.toFixed(1);
        const applied = counts.created + counts.updated + counts.unchanged;
        const linked = counts['linked-identifier'] + counts['linked-score'];
        printLines([
          `imported ${file} into ${module.name} from ${source ?? "each row's sourceSystem"}: ${total} row(s) in ${seconds} s (${Math.round(total / Math.max(elapsed, 0.001))} rows/s)`,
          `  applied         ${applied} (created ${counts.created}, updated ${counts.updated}, unchanged ${counts.unchanged})`,
          `  linked          ${linked} (identifier ${counts['linked-identifier']}, score ${counts['linked-score']})`,
          `  sent to review  ${counts.review}`,
          `  rejected        ${rejected}${rejected > reasons.length ? ` (the first ${reasons.length} below)` : ''}`,
          ...reasons,
          `  field dropped   ${dropped} (kept without the field${dropped > droppedLines.length ? `; the first ${droppedLines.length} below` : ''})`,
          ...droppedLines,
          ...(pipelined ? [pipelined] : []),
          `  peak RSS        ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
        ]);
      }),
    );
}
