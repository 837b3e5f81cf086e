// The road agents' batches as the infractions system takes them (SOAP RecordInfractions): the "INFRACTIONS ROUTIERES"
// app records tickets offline and sends them as one batch when back online. Each row carries the id the app gave it;
// the system remembers, per channel and agent, which row ids created which ticket, so that a batch sent again (a retry
// after a timeout, or a later batch overlapping it) creates nothing twice: such a row is answered `duplicate` with the
// ticket it created the first time. A row the system refuses creates nothing and names the field and the reason; the
// other rows of the batch are created. The whole batch is handled in one synchronous step, so no answer is partial.
import { parseCin, parsePlate } from '../../referentials/identifiers/index.ts';

/** A row of a batch, as the system reads it from the envelope (texts, not yet checked). */
export interface AgentRow {
  rowId: string;
  issuedAt: string;
  communeCode: string;
  plate: string;
  driverCin?: string;
  offenceCode: string;
}

export type RowResult =
  | { rowId: string; outcome: 'created' | 'duplicate'; ticketNumber: string }
  | { rowId: string; outcome: 'rejected'; field: string; reason: string };

/** What the batches need of the system's store (an interface, so that this module does not import the store's). */
export interface TicketIssuer {
  isOffence(code: string): boolean;
  add(input: { issuedAt: string; communeCode: string; plate: string; offenceCode: string; source: 'agent'; driverCin?: string }): { number: string };
}

/** The system's own bound on a batch (the hub's contract says fewer). */
export const maxRowsPerBatch = 100;
/** A ticket reaching the system more than this after the offence is prescribed (the app was offline too long). */
const prescriptionDays = 30;
/** Terminals' clocks drift: an offence up to this far in the future is taken as now. */
const clockSkewMs = 10 * 60_000;

const rowIdPattern = /^[A-Za-z0-9-]{8,64}$/;
const communePattern = /^[0-9]{2}\.[0-9]{3}\.[0-9]{2}\.[0-9]$/;

export class AgentBatches {
  /** channel|agent|rowId → the ticket the row created, and what the row said (to tell a retry from a reused id). */
  private readonly created = new Map<string, { ticketNumber: string; fingerprint: string; batchId: string }>();
  /** Every batch received, in order (tests count them). */
  readonly received: Array<{ channel: string; agent: string; batchId: string; rows: number }> = [];

  constructor(
    private readonly issuer: TicketIssuer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** How many tickets the agents' rows created (each row once, however often it was sent). */
  get ticketsCreated(): number {
    return this.created.size;
  }

  record(channel: string, agent: string, batchId: string, rows: readonly AgentRow[]): RowResult[] {
    this.received.push({ channel, agent, batchId, rows: rows.length });
    return rows.map((row) => this.recordRow(channel, agent, batchId, row));
  }

  private recordRow(channel: string, agent: string, batchId: string, row: AgentRow): RowResult {
    const rowId = row.rowId;
    if (!rowIdPattern.test(rowId)) return { rowId, outcome: 'rejected', field: 'rowId', reason: 'a row id is 8 to 64 letters, digits or hyphens' };
    const refusal = this.refusal(row);
    if (refusal) return { rowId, outcome: 'rejected', ...refusal };
    const key = `${channel}|${agent}|${rowId}`;
    const fingerprint = fingerprintOf(row);
    const earlier = this.created.get(key);
    if (earlier) {
      if (earlier.fingerprint === fingerprint) return { rowId, outcome: 'duplicate', ticketNumber: earlier.ticketNumber };
      return { rowId, outcome: 'rejected', field: 'rowId', reason: `this row id already created ${earlier.ticketNumber} with other content` };
    }
    const ticket = this.issuer.add({
      issuedAt: row.issuedAt,
      communeCode: row.communeCode,
      plate: row.plate,
      offenceCode: row.offenceCode,
      source: 'agent',
      ...(row.driverCin ? { driverCin: parseCinValue(row.driverCin) } : {}),
    });
    this.created.set(key, { ticketNumber: ticket.number, fingerprint, batchId });
    return { rowId, outcome: 'created', ticketNumber: ticket.number };
  }

  /** The first field the system refuses in a row, with its reason. */
  private refusal(row: AgentRow): { field: string; reason: string } | undefined {
    const plate = parsePlate(row.plate);
    if (!plate.ok) return { field: 'plate', reason: plate.message };
    if (row.driverCin) {
      const cin = parseCin(row.driverCin);
      if (!cin.ok) return { field: 'driverCin', reason: cin.message };
    }
    if (!this.issuer.isOffence(row.offenceCode)) return { field: 'offenceCode', reason: `${row.offenceCode.slice(0, 16)} is not an offence code of the road code's schedule` };
    if (!communePattern.test(row.communeCode)) return { field: 'communeCode', reason: 'a commune code is like 06.141.01.0' };
    const at = Date.parse(row.issuedAt);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(row.issuedAt) || Number.isNaN(at)) return { field: 'issuedAt', reason: 'not a date-time (2026-03-04T09:00:00+01:00)' };
    const now = this.now().getTime();
    if (at > now + clockSkewMs) return { field: 'issuedAt', reason: 'the offence is in the future (check the terminal\'s clock)' };
    if (at < now - prescriptionDays * 86_400_000) return { field: 'issuedAt', reason: `prescribed: the offence is more than ${prescriptionDays} days old` };
    return undefined;
  }
}

function parseCinValue(cin: string): string {
  const parsed = parseCin(cin);
  return parsed.ok ? parsed.value.value : cin;
}

/** What makes two rows the same infraction: a retry sends the same, a row id reused for another does not. */
function fingerprintOf(row: AgentRow): string {
  const plate = parsePlate(row.plate);
  return JSON.stringify([Date.parse(row.issuedAt), row.communeCode, plate.ok ? plate.value.key : row.plate, row.driverCin ? parseCinValue(row.driverCin) : '', row.offenceCode]);
}

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const element = (name: string, value: string | undefined): string => (value === undefined ? '' : `<inf:${name}>${escapeXml(value)}</inf:${name}>`);

function textOf(value: unknown, name: string): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const child = (value as Record<string, unknown>)[name];
  return typeof child === 'string' ? child : undefined;
}

/**
 * RecordInfractions: reads the request's element (as xml2js gave it), records the batch, answers one Result per row in
 * the order sent. A request without its Channel, Agent, BatchId or Rows, or with more rows than the system takes, is a
 * client fault (nothing recorded). A row lacking a field is that row's rejection.
 */
export function recordInfractionsAnswer(batches: AgentBatches, raw: unknown, fault: (reason: string) => Error): string {
  const channel = textOf(raw, 'Channel');
  const agent = textOf(raw, 'Agent');
  const batchId = textOf(raw, 'BatchId');
  if (!channel || !agent || !batchId) throw fault('Channel, Agent and BatchId are required');
  const list = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).Rows : undefined;
  const given = list && typeof list === 'object' ? (list as Record<string, unknown>).Row : undefined;
  const rows = given === undefined ? [] : Array.isArray(given) ? (given as unknown[]) : [given];
  if (rows.length === 0 || rows.length > maxRowsPerBatch) throw fault(`a batch holds 1 to ${maxRowsPerBatch} rows`);
  const results: RowResult[] = [];
  const readable: AgentRow[] = [];
  const order: Array<RowResult | number> = [];
  for (const row of rows) {
    const rowId = textOf(row, 'RowId') ?? '';
    const missing = (['IssuedAt', 'CommuneCode', 'Plate', 'OffenceCode'] as const).find((name) => !textOf(row, name));
    if (missing) {
      order.push({ rowId, outcome: 'rejected', field: missing.charAt(0).toLowerCase() + missing.slice(1), reason: 'is required' });
      continue;
    }
    const driverCin = textOf(row, 'DriverCin');
    order.push(readable.length);
    readable.push({ rowId, issuedAt: textOf(row, 'IssuedAt') ?? '', communeCode: textOf(row, 'CommuneCode') ?? '', plate: textOf(row, 'Plate') ?? '', offenceCode: textOf(row, 'OffenceCode') ?? '', ...(driverCin ? { driverCin } : {}) });
  }
  const recorded = batches.record(channel, agent, batchId, readable);
  for (const entry of order) results.push(typeof entry === 'number' ? (recorded[entry] as RowResult) : entry);
  const resultXml = results
    .map((r) => `<inf:Result>${element('RowId', r.rowId)}${element('Outcome', r.outcome)}${r.outcome === 'rejected' ? `${element('Field', r.field)}${element('Reason', r.reason)}` : element('TicketNumber', r.ticketNumber)}</inf:Result>`)
    .join('');
  return `<inf:RecordInfractionsResponse>${element('BatchId', batchId)}<inf:Results>${resultXml}</inf:Results></inf:RecordInfractionsResponse>`;
}
