// The road agents' operations of the infractions system as typed SOAP calls: RecordInfractions (one batch of tickets
// recorded offline, one Result per row) and GetPlateCheck (the owner today and the unpaid tickets of a plate). An
// answer that does not account for every row sent, in order, is unusable as a whole: the caller then keeps the batch
// and sends it again (the system's row ids make that safe), rather than believing half of it.
import { callSoapEnvelope, children, SoapError, text, type SoapCallOptions, type SoapValue } from './soap.ts';
import { infractionsNamespace } from './simulator.ts';
import { readTicket, type TicketView } from './tickets.ts';

export interface BatchRowInput {
  rowId: string;
  issuedAt: string;
  communeCode: string;
  plate: string;
  driverCin?: string;
  offenceCode: string;
}

export interface AgentBatchInput {
  /** The calling subsystem (the app's), so that two apps' row ids never meet. */
  channel: string;
  /** The agent's number. */
  agent: string;
  batchId: string;
  rows: readonly BatchRowInput[];
}

export type BatchRowResult =
  | { rowId: string; outcome: 'created' | 'duplicate'; ticketNumber: string }
  | { rowId: string; outcome: 'rejected'; field: string; reason: string };

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const element = (name: string, value: string | undefined): string => (value === undefined ? '' : `<inf:${name}>${escapeXml(value)}</inf:${name}>`);

export function recordInfractionsEnvelope(batch: AgentBatchInput): string {
  const rows = batch.rows
    .map((r) => `<inf:Row>${element('RowId', r.rowId)}${element('IssuedAt', r.issuedAt)}${element('CommuneCode', r.communeCode)}${element('Plate', r.plate)}${element('DriverCin', r.driverCin)}${element('OffenceCode', r.offenceCode)}</inf:Row>`)
    .join('');
  const body = `<inf:RecordInfractions>${element('Channel', batch.channel)}${element('Agent', batch.agent)}${element('BatchId', batch.batchId)}<inf:Rows>${rows}</inf:Rows></inf:RecordInfractions>`;
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:inf="${infractionsNamespace}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

function readResult(v: SoapValue, sent: BatchRowInput): BatchRowResult {
  const rowId = text(v, 'RowId') ?? '';
  if (rowId !== sent.rowId) throw new SoapError('malformed', 'a Result that does not answer the row sent in its place');
  const outcome = text(v, 'Outcome');
  if (outcome === 'created' || outcome === 'duplicate') {
    const ticketNumber = text(v, 'TicketNumber');
    if (!ticketNumber) throw new SoapError('malformed', `a ${outcome} Result without its TicketNumber`);
    return { rowId, outcome, ticketNumber };
  }
  if (outcome === 'rejected') {
    const field = text(v, 'Field');
    const reason = text(v, 'Reason');
    if (!field || !reason) throw new SoapError('malformed', 'a rejected Result without its Field and Reason');
    return { rowId, outcome, field: field.slice(0, 64), reason: reason.slice(0, 300) };
  }
  throw new SoapError('malformed', 'a Result without a known Outcome');
}

/** Sends one batch; one result per row, in the order sent, or a SoapError (nothing of the answer used). */
export async function recordInfractions(endpoint: string, batch: AgentBatchInput, options: SoapCallOptions): Promise<BatchRowResult[]> {
  const response = await callSoapEnvelope(endpoint, 'RecordInfractions', recordInfractionsEnvelope(batch), options);
  const results = children(children(response, 'Results')[0], 'Result');
  if (results.length !== batch.rows.length) throw new SoapError('malformed', `${results.length} Results for ${batch.rows.length} rows`);
  return results.map((r, i) => readResult(r, batch.rows[i] as BatchRowInput));
}

/** The owner of a plate on `date` (when the system knows one) and its unpaid tickets. */
export async function plateCheck(endpoint: string, plate: string, date: string, options: SoapCallOptions): Promise<{ ownerCin?: string; unpaid: TicketView[] }> {
  const response = await callSoapEnvelope(
    endpoint,
    'GetPlateCheck',
    `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:inf="${infractionsNamespace}"><soap:Body><inf:GetPlateCheck>${element('Plate', plate)}${element('Date', date)}</inf:GetPlateCheck></soap:Body></soap:Envelope>`,
    options,
  );
  const ownerCin = text(response, 'OwnerCin');
  const unpaid = children(children(response, 'Infractions')[0], 'Infraction').map(readTicket);
  return { ...(ownerCin ? { ownerCin } : {}), unpaid };
}
