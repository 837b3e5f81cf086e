// The system's operations as typed calls: a ticket read from its XML, checked field by field; a ticket that lacks a
// required field makes the whole answer invalid (nothing of it is used), so no answer is ever half-applied.
import { callSoap, children, SoapError, text, type SoapCallOptions, type SoapValue } from './soap.ts';

export interface TicketView {
  ticketNumber: string;
  issuedAt: string;
  communeCode: string;
  plate: string;
  driverCin?: string;
  driverNameLatin?: string;
  driverNameArabic?: string;
  ownerCin?: string;
  offence: { code: string; label: string };
  amount: number;
  points: number;
  paymentState: string;
  source: string;
  sequence: number;
}

function required(v: SoapValue, name: string): string {
  const t = text(v, name);
  if (t === undefined || t === '') throw new SoapError('malformed', `an Infraction without ${name}`);
  return t;
}

function integer(v: SoapValue, name: string): number {
  const n = Number(required(v, name));
  if (!Number.isSafeInteger(n) || n < 0) throw new SoapError('malformed', `an Infraction whose ${name} is not a whole number`);
  return n;
}

export function readTicket(v: SoapValue): TicketView {
  const optional = (name: string) => {
    const t = text(v, name);
    return t === undefined || t === '' ? undefined : t;
  };
  const driverCin = optional('DriverCin');
  const driverNameLatin = optional('DriverNameLatin');
  const driverNameArabic = optional('DriverNameArabic');
  const ownerCin = optional('OwnerCin');
  return {
    ticketNumber: required(v, 'TicketNumber'),
    issuedAt: required(v, 'IssuedAt'),
    communeCode: required(v, 'CommuneCode'),
    plate: required(v, 'Plate'),
    ...(driverCin ? { driverCin } : {}),
    ...(driverNameLatin ? { driverNameLatin } : {}),
    ...(driverNameArabic ? { driverNameArabic } : {}),
    ...(ownerCin ? { ownerCin } : {}),
    offence: { code: required(v, 'OffenceCode'), label: required(v, 'OffenceLabel') },
    amount: integer(v, 'Amount'),
    points: integer(v, 'Points'),
    paymentState: required(v, 'PaymentState'),
    source: required(v, 'Source'),
    sequence: integer(v, 'Sequence'),
  };
}

const ticketsOf = (response: SoapValue): TicketView[] => {
  const list = children(response, 'Infractions')[0];
  return children(list, 'Infraction').map(readTicket);
};

export async function ticketsByPlate(endpoint: string, plate: string, options: SoapCallOptions): Promise<TicketView[]> {
  return ticketsOf(await callSoap(endpoint, 'GetInfractionsByPlate', { Plate: plate }, options));
}

export async function ticketsByCin(endpoint: string, cin: string, options: SoapCallOptions): Promise<{ licencePoints?: number; tickets: TicketView[] }> {
  const response = await callSoap(endpoint, 'GetInfractionsByCin', { Cin: cin }, options);
  const points = text(response, 'LicencePoints');
  return { ...(points !== undefined && /^\d{1,3}$/.test(points) ? { licencePoints: Number(points) } : {}), tickets: ticketsOf(response) };
}

/** A run's name as the system gives it beside a cursor ('' from a system that gives none: a restart goes unseen). */
export function readEpoch(response: SoapValue, operation: string): string {
  const epoch = text(response, 'Epoch') ?? '';
  if (!/^[0-9a-z]{0,32}$/.test(epoch)) throw new SoapError('malformed', `${operation} with an Epoch that is not a run's name`);
  return epoch;
}

export async function ticketsSince(endpoint: string, cursor: number, max: number, options: SoapCallOptions): Promise<{ tickets: TicketView[]; cursor: number; more: boolean; epoch: string }> {
  const response = await callSoap(endpoint, 'ListInfractionsSince', { Cursor: cursor, MaxResults: max }, options);
  const next = Number(text(response, 'Cursor'));
  if (!Number.isSafeInteger(next) || next < cursor) throw new SoapError('malformed', 'ListInfractionsSince without a valid Cursor');
  return { tickets: ticketsOf(response), cursor: next, more: text(response, 'More') === 'true', epoch: readEpoch(response, 'ListInfractionsSince') };
}

export async function recordOwnershipChange(endpoint: string, change: { plate: string; ownerCin: string; effectiveDate: string }, options: SoapCallOptions): Promise<boolean> {
  const response = await callSoap(endpoint, 'RecordOwnershipChange', { Plate: change.plate, OwnerCin: change.ownerCin, EffectiveDate: change.effectiveDate }, options);
  return text(response, 'Recorded') === 'true';
}
