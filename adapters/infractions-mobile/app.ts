// The road agents' mobile app « INFRACTIONS ROUTIERES » as a consumer of the hub (src/client): it records tickets
// while offline in its journal (journal.ts), each with an id it generates; back online it seals the pending tickets
// into one batch (its id written to the journal before anything is sent) and sends it signed through the exchange
// (recordInfractionBatch). A batch without an answer (offline, the system down or slow, an answer that does not
// verify) stays sealed and is sent again as it was, same batch id and rows, so the system's dedup on row ids creates
// nothing twice. Rows the system rejects are kept with the field and the reason for the agent to fix and send again;
// rows created are kept with their ticket number. It also checks a plate at the roadside (checkPlate).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { parseCin, parsePlate } from '../../referentials/identifiers/index.ts';
import { ResponseVerificationError, type CallResult } from '../../src/client/index.ts';
import { Journal } from './journal.ts';

export const mobileSubsystem = 'MA/GOV/METLE/infractions-mobile';
export const mobilePurpose = 'roadside-enforcement';
export const ticketsService = 'MA/GOV/METLE/infractions/tickets';
/** The contract's bound on a batch (contracts/MA.GOV.METLE.infractions/tickets/openapi.yaml, InfractionBatch.rows). */
export const batchLimit = 50;

/** What the app needs of a hub client (TabadolClient): a signed call whose answer it verified. */
export interface HubCaller {
  call(method: string, target: string, options: { purpose: string; body?: string; contentType?: string }): Promise<CallResult>;
}

const row = z.strictObject({
  rowId: z.string(),
  recordedAt: z.string(),
  issuedAt: z.string(),
  communeCode: z.string(),
  plate: z.string(),
  driverCin: z.string().optional(),
  offenceCode: z.string(),
});
export type RecordedRow = z.infer<typeof row>;

const result = z.union([
  z.strictObject({ rowId: z.string(), outcome: z.enum(['created', 'duplicate']), ticketNumber: z.string() }),
  z.strictObject({ rowId: z.string(), outcome: z.literal('rejected'), field: z.string(), reason: z.string() }),
]);
export type RowResult = z.infer<typeof result>;

const event = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('recorded'), row }),
  z.strictObject({ t: z.literal('fixed'), row }),
  z.strictObject({ t: z.literal('sealed'), batchId: z.string(), rowIds: z.array(z.string()).min(1).max(batchLimit) }),
  // The batch's answer: a result for each row the system (or the hub's 400) named; the others go back to pending.
  z.strictObject({ t: z.literal('answered'), batchId: z.string(), results: z.array(result) }),
]);
type JournalEvent = z.infer<typeof event>;

export type RowState =
  | { state: 'pending'; row: RecordedRow }
  | { state: 'sealed'; row: RecordedRow; batchId: string }
  | { state: 'sent'; row: RecordedRow; ticketNumber: string }
  | { state: 'rejected'; row: RecordedRow; field: string; reason: string };

export class RecordError extends Error {
  override name = 'RecordError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export interface TicketInput {
  issuedAt: string;
  communeCode: string;
  plate: string;
  driverCin?: string;
  offenceCode: string;
}

export type UploadOutcome =
  /** Every row sealed or pending was answered. */
  | 'done'
  /** The hub could not be reached. */
  | 'offline'
  /** The hub answered that the system failed (502, 503, 504) or its answer did not verify: the batch is kept. */
  | 'unavailable'
  /** The hub refused the app (401, 403, 429…): the batch is kept until that is settled. */
  | 'refused';

export interface UploadReport {
  outcome: UploadOutcome;
  batches: Array<{ batchId: string; created: number; duplicate: number; rejected: number }>;
  /** Rows still to be sent (sealed or pending). */
  kept: number;
  /** The hub's status and problem type when it answered other than 200. */
  status?: number;
  problem?: string;
}

export interface RoadAgentAppOptions {
  /** The app's data folder on the terminal. */
  dataDir: string;
  agentId: string;
  hub: HubCaller;
  now?: () => Date;
}

const offencePattern = /^[A-Z]{1,2}-[0-9]{2}$/;
const communePattern = /^[0-9]{2}\.[0-9]{3}\.[0-9]{2}\.[0-9]$/;

/** The checks the terminal makes as the agent types (the contract's bounds, plates and CINs); the system decides the rest. */
export function checkTicket(input: TicketInput): void {
  if (typeof input.issuedAt !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$/.test(input.issuedAt) || Number.isNaN(Date.parse(input.issuedAt))) {
    throw new RecordError('issuedAt', 'a date-time with its offset, such as 2026-03-04T09:00:00+01:00');
  }
  if (typeof input.communeCode !== 'string' || !communePattern.test(input.communeCode)) throw new RecordError('communeCode', 'a commune code such as 06.141.01.0');
  const plate = parsePlate(input.plate);
  if (!plate.ok || input.plate.length > 32) throw new RecordError('plate', plate.ok ? 'at most 32 characters' : plate.message);
  if (input.driverCin !== undefined) {
    const cin = parseCin(input.driverCin);
    if (!cin.ok || input.driverCin.length > 16) throw new RecordError('driverCin', cin.ok ? 'at most 16 characters' : cin.message);
  }
  if (typeof input.offenceCode !== 'string' || !offencePattern.test(input.offenceCode)) throw new RecordError('offenceCode', 'an offence code such as V-20');
}

export class RoadAgentApp {
  private readonly rows = new Map<string, RowState>();
  /** The batch sealed and not yet answered, sent again as it is. */
  private open: { batchId: string; rowIds: string[] } | undefined;
  private readonly journal: Journal<JournalEvent>;
  private readonly now: () => Date;

  constructor(private readonly options: RoadAgentAppOptions) {
    this.now = options.now ?? (() => new Date());
    const { journal, events } = Journal.open(join(options.dataDir, 'journal.jsonl'), (v) => event.parse(v));
    this.journal = journal;
    for (const e of events) this.apply(e);
  }

  private apply(e: JournalEvent): void {
    switch (e.t) {
      case 'recorded':
      case 'fixed':
        this.rows.set(e.row.rowId, { state: 'pending', row: e.row });
        return;
      case 'sealed':
        for (const id of e.rowIds) {
          const r = this.rows.get(id);
          if (r) this.rows.set(id, { state: 'sealed', row: r.row, batchId: e.batchId });
        }
        this.open = { batchId: e.batchId, rowIds: e.rowIds };
        return;
      case 'answered': {
        const answered = new Map(e.results.map((r) => [r.rowId, r]));
        for (const id of this.open?.batchId === e.batchId ? this.open.rowIds : []) {
          const r = this.rows.get(id);
          if (!r) continue;
          const res = answered.get(id);
          if (!res) this.rows.set(id, { state: 'pending', row: r.row });
          else if (res.outcome === 'rejected') this.rows.set(id, { state: 'rejected', row: r.row, field: res.field, reason: res.reason });
          else this.rows.set(id, { state: 'sent', row: r.row, ticketNumber: res.ticketNumber });
        }
        this.open = undefined;
        return;
      }
    }
  }

  private write(e: JournalEvent): void {
    this.journal.append(e);
    this.apply(e);
  }

  /** Records a ticket on the terminal (no network); its row id. */
  record(input: TicketInput): string {
    checkTicket(input);
    const recorded: RecordedRow = {
      rowId: randomUUID(),
      recordedAt: this.now().toISOString(),
      issuedAt: input.issuedAt,
      communeCode: input.communeCode,
      plate: input.plate,
      ...(input.driverCin !== undefined ? { driverCin: input.driverCin } : {}),
      offenceCode: input.offenceCode,
    };
    this.write({ t: 'recorded', row: recorded });
    return recorded.rowId;
  }

  /** The agent corrects a rejected ticket: it goes back to pending with the same row id (the system created nothing for it). */
  fix(rowId: string, changes: Partial<TicketInput>): void {
    const current = this.rows.get(rowId);
    if (current?.state !== 'rejected') throw new RecordError('rowId', 'only a rejected ticket can be corrected');
    const { rowId: _id, recordedAt, ...fields } = current.row;
    const next = { ...fields, ...changes };
    checkTicket(next);
    this.write({ t: 'fixed', row: { rowId, recordedAt, ...next } });
  }

  /** Every ticket on the terminal with its state, in the order recorded. */
  tickets(): Array<RowState & { rowId: string }> {
    return [...this.rows.entries()].map(([rowId, r]) => ({ rowId, ...r }));
  }

  /** Rows not yet answered by the system (sealed or pending). */
  private kept(): number {
    return [...this.rows.values()].filter((r) => r.state === 'pending' || r.state === 'sealed').length;
  }

  /**
   * Sends what is pending: the open batch first, as sealed, then new batches of at most `batchLimit` rows, until all
   * are answered or one cannot be (then it stays sealed for the next try). Bounded: each round answers or stops.
   */
  async upload(): Promise<UploadReport> {
    const batches: UploadReport['batches'] = [];
    for (;;) {
      const open = this.open ?? this.seal();
      if (!open) return { outcome: 'done', batches, kept: 0 };
      const sent = await this.send(open);
      if ('outcome' in sent) return { ...sent, batches, kept: this.kept() };
      batches.push({ batchId: open.batchId, ...sent.counts });
    }
  }

  /** Seals the oldest pending tickets into the open batch (written before anything is sent); undefined when none. */
  private seal(): { batchId: string; rowIds: string[] } | undefined {
    const pending = [...this.rows.entries()].filter(([, r]) => r.state === 'pending').slice(0, batchLimit);
    if (pending.length === 0) return undefined;
    const sealed = { batchId: randomUUID(), rowIds: pending.map(([id]) => id) };
    this.write({ t: 'sealed', ...sealed });
    return sealed;
  }

  private async send(open: { batchId: string; rowIds: string[] }): Promise<{ counts: { created: number; duplicate: number; rejected: number } } | Omit<UploadReport, 'batches' | 'kept'>> {
    const rows = open.rowIds.map((id) => {
      const { recordedAt: _at, ...sent } = (this.rows.get(id) as RowState).row;
      return sent;
    });
    const body = JSON.stringify({ batchId: open.batchId, agentId: this.options.agentId, rows });
    let answer: CallResult;
    try {
      answer = await this.options.hub.call('POST', `/x/v1/${ticketsService}/infraction-batches`, { purpose: mobilePurpose, body, contentType: 'application/json' });
    } catch (err) {
      // An answer the hub's key does not vouch for is no answer: the batch is sent again later.
      if (err instanceof ResponseVerificationError) return { outcome: 'unavailable' };
      return { outcome: 'offline' };
    }
    const problem = problemOf(answer);
    if (answer.status === 200) {
      const results = readResults(answer.body, open.rowIds);
      if (!results) return { outcome: 'unavailable', status: 200, problem: 'an answer that does not account for every row' };
      this.write({ t: 'answered', batchId: open.batchId, results });
      const counts = { created: 0, duplicate: 0, rejected: 0 };
      for (const r of results) counts[r.outcome] += 1;
      return { counts };
    }
    if (answer.status === 400) {
      // The hub named the rows and fields it refused (body.rows.3.plate): those are rejected, the others sent again.
      const named = rowErrors(answer.body, open.rowIds);
      if (named.length > 0) {
        this.write({ t: 'answered', batchId: open.batchId, results: named });
        return { counts: { created: 0, duplicate: 0, rejected: named.length } };
      }
    }
    if (answer.status >= 500) return { outcome: 'unavailable', status: answer.status, ...(problem ? { problem } : {}) };
    return { outcome: 'refused', status: answer.status, ...(problem ? { problem } : {}) };
  }

  /** A roadside check of a plate: the vehicle, its owner, its unpaid tickets (as the convention lets the app see them). */
  async checkPlate(plate: string): Promise<{ status: number; body: unknown }> {
    const parsed = parsePlate(plate);
    if (!parsed.ok || plate.length > 32) throw new RecordError('plate', parsed.ok ? 'at most 32 characters' : parsed.message);
    const answer = await this.options.hub.call('GET', `/x/v1/${ticketsService}/plates/${encodeURIComponent(plate)}/check`, { purpose: mobilePurpose });
    return { status: answer.status, body: JSON.parse(answer.body) as unknown };
  }

  close(): void {
    this.journal.close();
  }
}

function problemOf(answer: CallResult): string | undefined {
  if (!/^application\/problem\+json/.test(answer.headers.get('content-type') ?? '')) return undefined;
  try {
    const type = (JSON.parse(answer.body) as { type?: unknown }).type;
    return typeof type === 'string' ? type.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

const answerSchema = z.object({ results: z.array(result).max(batchLimit) });

/** The results, when they answer exactly the rows sent (in order); otherwise nothing of the answer is used. */
function readResults(body: string, rowIds: readonly string[]): RowResult[] | undefined {
  let parsed: z.infer<typeof answerSchema>;
  try {
    parsed = answerSchema.parse(JSON.parse(body));
  } catch {
    return undefined;
  }
  if (parsed.results.length !== rowIds.length || parsed.results.some((r, i) => r.rowId !== rowIds[i])) return undefined;
  return parsed.results;
}

/** A 400's field errors on rows (`body.rows.N.field`), as rejections of those rows. */
function rowErrors(body: string, rowIds: readonly string[]): RowResult[] {
  let errors: unknown;
  try {
    errors = (JSON.parse(body) as { errors?: unknown }).errors;
  } catch {
    return [];
  }
  if (!Array.isArray(errors)) return [];
  const byRow = new Map<string, RowResult>();
  for (const e of errors as Array<{ location?: unknown; message?: unknown }>) {
    const m = typeof e.location === 'string' ? /^body\.rows\.(\d{1,3})(?:\.([A-Za-z]{1,32}))?/.exec(e.location) : null;
    const rowId = m ? rowIds[Number(m[1])] : undefined;
    if (!m || rowId === undefined || byRow.has(rowId)) continue;
    byRow.set(rowId, { rowId, outcome: 'rejected', field: m[2] ?? 'row', reason: typeof e.message === 'string' ? e.message.slice(0, 300) : 'refused' });
  }
  return [...byRow.values()];
}
