// Bulk contributions, first step: the rows of a chunk validated and readied for matching (natural keys, match profile,
// blocking keys, the JSON texts the writes send), pure computation done before (and while) the database works; a
// source id given twice goes in a later round. See bulk.ts.
import type { ContributionDecision } from './engine-types.ts';
import type { FieldProblem, MatchProfile, NaturalKey, ReferentialModule } from './module.ts';
import { surviveOneJson } from './engine-survivorship.ts';
import { goldenRowJsonOf, storedBlockingKeys } from './compute.ts';
import { jsonRow } from './json-rows.ts';

export interface BulkRow {
  /** Where the row came from (a file's line number), echoed in its outcome. */
  line: number;
  sourceSystem: string;
  sourceId: string;
  attributes: unknown;
}

export type BulkOutcome =
  | { line: number; sourceSystem: string; sourceId: string; ok: true; goldenId: string; decision: ContributionDecision; warnings: string[] }
  | { line: number; sourceSystem: string; sourceId: string; ok: false; problems: FieldProblem[] };

/** A row that passed validation, with what matching needs, computed once. */
export interface Prepared {
  at: number;
  row: BulkRow;
  attributes: Record<string, unknown>;
  keys: NaturalKey[];
  profile: MatchProfile | undefined;
  probe: string[];
  indexKeys: string[];
  /** indexKeys as the record this row alone makes stores them (storedBlockingKeys). */
  soloKeys: string[];
  warnings: string[];
  /**
   * What the chunk's statements send for this row, serialised here, ahead of the database, as UTF-8 JSON (json-rows.ts):
   * its source record, and the golden record it alone makes (all but the id, which the decision gives).
   */
  sourceRow: Buffer;
  soloRow: Buffer;
}

/** Rows validated and readied for matching: pure computation, done before (and while) the database works. */
export interface PreparedBulk {
  module: ReferentialModule;
  receivedAt: Date;
  /** Outcomes so far: the invalid rows'. */
  outcomes: BulkOutcome[];
  /** Each source id once per round: a source id given twice goes in a later round, as its next version. */
  rounds: Prepared[][];
}

export function prepareBulk(module: ReferentialModule, rows: readonly BulkRow[], receivedAt: Date = new Date()): PreparedBulk {
  const preparing = new Preparing(module, rows.length, receivedAt);
  rows.forEach((row, at) => preparing.add(row, at));
  return preparing.done();
}

/**
 * prepareBulk, handing the event loop back every `slice` rows: an importer prepares the next chunk while the previous
 * one is written, and a chunk prepared in one go (hundreds of milliseconds) would hold back each of that write's
 * statements, whose results wait for the loop, by as much.
 */
export async function prepareBulkSliced(module: ReferentialModule, rows: readonly BulkRow[], receivedAt: Date = new Date(), slice = 100): Promise<PreparedBulk> {
  const preparing = new Preparing(module, rows.length, receivedAt);
  for (let at = 0; at < rows.length; at++) {
    if (at > 0 && at % slice === 0) await yieldToLoop();
    preparing.add(rows[at] as BulkRow, at);
  }
  return preparing.done();
}

/** Lets pending I/O callbacks (a query's result) run before going on. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The rows of a chunk being prepared, one at a time, in order. */
class Preparing {
  private readonly outcomes: BulkOutcome[];
  private readonly rounds: Prepared[][] = [];
  private readonly seenIn = new Map<string, number>();

  constructor(
    private readonly module: ReferentialModule,
    size: number,
    private readonly receivedAt: Date,
  ) {
    this.outcomes = new Array(size);
  }

  add(row: BulkRow, at: number): void {
    const { module, receivedAt } = this;
    const normalised = module.normalise(row.attributes);
    if (!normalised.ok) {
      this.outcomes[at] = { line: row.line, sourceSystem: row.sourceSystem, sourceId: row.sourceId, ok: false, problems: normalised.problems };
      return;
    }
    const attributes = normalised.attributes;
    const blocking = module.blockingKeys?.(attributes);
    const profile = module.matchProfile?.(attributes);
    const indexKeys = blocking?.index ?? [];
    const probe = blocking?.probe ?? [];
    const soloKeys = storedBlockingKeys(indexKeys);
    const prepared: Prepared = {
      at,
      row,
      attributes,
      keys: module.naturalKeys(attributes),
      profile,
      probe,
      indexKeys,
      soloKeys,
      warnings: normalised.warnings,
      sourceRow: jsonRow(JSON.stringify({ sys: row.sourceSystem, sid: row.sourceId, a: attributes })),
      soloRow: jsonRow(
        goldenRowJsonOf(surviveOneJson({ system: row.sourceSystem, id: row.sourceId, attributes, receivedAt }), profile, soloKeys, [
          { system: row.sourceSystem, id: row.sourceId, version: 1 },
        ]),
      ),
    };
    const source = `${row.sourceSystem}\u0000${row.sourceId}`;
    const round = (this.seenIn.get(source) ?? -1) + 1;
    this.seenIn.set(source, round);
    (this.rounds[round] ??= []).push(prepared);
  }

  done(): PreparedBulk {
    return { module: this.module, receivedAt: this.receivedAt, outcomes: this.outcomes, rounds: this.rounds };
  }
}
