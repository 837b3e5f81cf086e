// The infractions management system as the ministry runs it: a legacy SOAP 1.1 service (node:http) with its WSDL at
// `?wsdl`, holding its own tickets (agents' and fixed speed cameras') and licences' points, in its own shape. It knows
// a vehicle's owners over time (RecordOwnershipChange), so a ticket goes to the owner at the date of the offence.
// Faults are switchable so that the adapter's handling of bad SOAP can be tested: a SOAP Fault, a truncated envelope,
// an HTML error page with a 200, Windows-1256 declared and UTF-8 sent, a slow answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parsePlate } from '../../referentials/identifiers/index.ts';
import { scanXml } from '../regional-office/xml.ts';
import { parseStringPromise, processors } from 'xml2js';
import { answerLicenceOperation, LicenceRegister, licenceOperations, newEpoch } from './licences.ts';
import { AgentBatches, recordInfractionsAnswer } from './agent-batches.ts';
import { serveLocal } from '../shared/local-server.ts';

export const infractionsNamespace = 'urn:ma:gov:metle:infractions:v1';

export type TicketSource = 'agent' | 'speed-camera';
export type PaymentState = 'unpaid' | 'paid' | 'contested';

/** A ticket as the system holds it. Driver CIN is missing on camera tickets (the driver is not known at the camera). */
export interface Ticket {
  number: string;
  /** Offence date-time, local time with offset (ISO 8601). */
  issuedAt: string;
  communeCode: string;
  /** The plate as the agent or the camera wrote it (Latin or Arabic letter). */
  plate: string;
  driverCin?: string;
  driverNameLatin?: string;
  driverNameArabic?: string;
  ownerCin?: string;
  offenceCode: string;
  offenceLabel: string;
  amount: number;
  points: number;
  paymentState: PaymentState;
  source: TicketSource;
  /** The change sequence (ListInfractionsSince's cursor). */
  seq: number;
}

export type SimulatorFault = 'none' | 'soap-fault' | 'truncated' | 'html-200' | 'charset' | 'slow';

const offences: Record<string, { label: string; amount: number; points: number }> = {
  'V-20': { label: 'Excès de vitesse de moins de 20 km/h', amount: 300, points: 2 },
  'V-30': { label: 'Excès de vitesse de 20 à 30 km/h', amount: 500, points: 3 },
  'F-01': { label: 'Non-respect du feu rouge', amount: 700, points: 4 },
  'C-01': { label: 'Non-port de la ceinture de sécurité', amount: 300, points: 2 },
  'T-01': { label: 'Usage du téléphone en conduisant', amount: 300, points: 2 },
};

/** The system's data: tickets, owners over time by plate key, licences' points by CIN. */
export class InfractionsStore {
  readonly tickets: Ticket[] = [];
  /** Plate key → owners, oldest first, each from a date (YYYY-MM-DD). */
  readonly owners = new Map<string, Array<{ cin: string; from: string }>>();
  readonly points = new Map<string, number>();
  /** The points register: licences' states, listed to the hub (licences.ts). */
  readonly licences = new LicenceRegister(this.points);
  /** This run's name: the change sequences restart with the process (a cursor of another run starts over). */
  readonly epoch = newEpoch();
  /** The ownership changes received, in order (what the hub pushed). */
  readonly ownershipChanges: Array<{ plate: string; ownerCin: string; from: string }> = [];
  private seq = 0;
  private ticketNo = 1000;

  constructor() {
    this.recordOwnership('12345-A-6', 'BK123456', '2018-03-01');
    this.recordOwnership('4567-ب-1', 'AB654321', '2020-06-15');
    this.recordOwnership('9876-D-33', 'J456789', '2015-01-10');
    this.enrolLicenceHolders();
    const agent = { driverCin: 'BK123456', driverNameLatin: 'Youssef El Amrani', driverNameArabic: 'يوسف العمراني' };
    this.add({ issuedAt: '2026-01-12T08:40:00+01:00', communeCode: '06.141.01.0', plate: '12345-A-6', ...agent, offenceCode: 'F-01', source: 'agent', paymentState: 'paid' });
    this.add({ issuedAt: '2026-02-03T17:05:00+01:00', communeCode: '04.421.01.0', plate: '12345-أ-6', offenceCode: 'V-20', source: 'speed-camera' });
    // An agent's ticket to a driver who is not the owner; the plate in Arabic letters.
    this.add({ issuedAt: '2026-02-20T11:15:00+01:00', communeCode: '07.351.01.0', plate: '4567-ب-1', driverCin: 'EE998877', driverNameArabic: 'فاطمة الزهراء بناني', offenceCode: 'T-01', source: 'agent' });
    // A camera ticket on a plate the system holds no owner for (a missing CIN).
    this.add({ issuedAt: '2026-03-01T22:30:00+01:00', communeCode: '01.511.01.0', plate: '22222-و-40', offenceCode: 'V-30', source: 'speed-camera' });
    const twice = this.add({ issuedAt: '2026-03-04T09:00:00+01:00', communeCode: '06.141.01.0', plate: '9876-D-33', driverCin: 'J456789', driverNameLatin: 'Hassan Bennani', offenceCode: 'C-01', source: 'agent' });
    // The same ticket sent twice by an agent's terminal: the system holds it twice, with one number.
    this.tickets.push({ ...twice, seq: ++this.seq });
  }

  /** Adds a ticket, addressed to the plate's owner at the offence date; the driver loses the offence's points. */
  add(input: Pick<Ticket, 'issuedAt' | 'communeCode' | 'plate' | 'offenceCode' | 'source'> & Partial<Pick<Ticket, 'driverCin' | 'driverNameLatin' | 'driverNameArabic' | 'paymentState'>>): Ticket {
    const offence = offences[input.offenceCode];
    if (!offence) throw new RangeError(`unknown offence code ${input.offenceCode}`);
    const ownerCin = this.ownerAt(input.plate, input.issuedAt.slice(0, 10));
    const ticket: Ticket = {
      ...input,
      number: `PV-${2026}-${String(++this.ticketNo).padStart(6, '0')}`,
      ...(ownerCin ? { ownerCin } : {}),
      offenceLabel: offence.label,
      amount: offence.amount,
      points: offence.points,
      paymentState: input.paymentState ?? 'unpaid',
      seq: ++this.seq,
    };
    this.tickets.push(ticket);
    const liable = ticket.driverCin ?? ticket.ownerCin;
    if (liable) this.licences.deduct(liable, ticket.points, ticket.issuedAt, liable === ticket.driverCin ? { latin: ticket.driverNameLatin, arabic: ticket.driverNameArabic } : {});
    return ticket;
  }

  /** The licence file's holders of the seed tickets (one known by its Arabic name only, as old files hold it). */
  private enrolLicenceHolders(): void {
    this.licences.enrol('BK123456', { latin: 'Youssef El Amrani', arabic: 'يوسف العمراني' });
    this.licences.enrol('AB654321', { latin: 'Nadia Cherkaoui', arabic: 'نادية الشرقاوي' });
    this.licences.enrol('J456789', { latin: 'Hassan Bennani', arabic: 'حسن بناني' });
    this.licences.enrol('EE998877', { arabic: 'فاطمة الزهراء بناني' });
  }

  ownerAt(plate: string, date: string): string | undefined {
    const history = this.owners.get(plateKey(plate)) ?? [];
    return history.filter((o) => o.from <= date).at(-1)?.cin;
  }

  /** Idempotent: the owner already recorded from that date changes nothing. */
  recordOwnership(plate: string, cin: string, from: string): boolean {
    const key = plateKey(plate);
    const history = this.owners.get(key) ?? [];
    if (history.some((o) => o.cin === cin && o.from === from)) return false;
    history.push({ cin, from });
    history.sort((a, b) => a.from.localeCompare(b.from));
    this.owners.set(key, history);
    return true;
  }

  byPlate(plate: string): Ticket[] {
    const key = plateKey(plate);
    return this.tickets.filter((t) => plateKey(t.plate) === key);
  }

  byCin(cin: string): Ticket[] {
    return this.tickets.filter((t) => t.driverCin === cin || t.ownerCin === cin);
  }

  since(cursor: number, max: number): { tickets: Ticket[]; cursor: number; more: boolean } {
    const after = this.tickets.filter((t) => t.seq > cursor);
    const page = after.slice(0, max);
    return { tickets: page, cursor: page.at(-1)?.seq ?? cursor, more: after.length > page.length };
  }

  isOffence(code: string): boolean {
    return Object.hasOwn(offences, code);
  }

  /** The road agents' batches (RecordInfractions): see agent-batches.ts. */
  readonly agentBatches = new AgentBatches(this);

  /** What a road agent checks at the roadside: the owner today and the unpaid tickets (a ticket held twice counted once). */
  plateCheck(plate: string, date: string): { ownerCin?: string; unpaid: Ticket[] } {
    const seen = new Set<string>();
    const unpaid = this.byPlate(plate).filter((t) => t.paymentState === 'unpaid' && !seen.has(t.number) && seen.add(t.number));
    const ownerCin = this.ownerAt(plate, date);
    return { ...(ownerCin ? { ownerCin } : {}), unpaid };
  }
}

/** The system compares plates by their key, whichever letter they were written with. */
function plateKey(plate: string): string {
  const parsed = parsePlate(plate);
  return parsed.ok ? parsed.value.key : plate;
}

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function element(name: string, value: string | number | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
}

function ticketXml(t: Ticket): string {
  return `<Infraction>${element('TicketNumber', t.number)}${element('IssuedAt', t.issuedAt)}${element('CommuneCode', t.communeCode)}${element('Plate', t.plate)}${element('DriverCin', t.driverCin)}${element('DriverNameLatin', t.driverNameLatin)}${element('DriverNameArabic', t.driverNameArabic)}${element('OwnerCin', t.ownerCin)}${element('OffenceCode', t.offenceCode)}${element('OffenceLabel', t.offenceLabel)}${element('Amount', t.amount)}${element('Points', t.points)}${element('PaymentState', t.paymentState)}${element('Source', t.source)}${element('Sequence', t.seq)}</Infraction>`;
}

export function soapEnvelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:inf="${infractionsNamespace}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

export function soapFault(code: 'soap:Client' | 'soap:Server', message: string): string {
  return soapEnvelope(`<soap:Fault><faultcode>${code}</faultcode><faultstring>${escapeXml(message)}</faultstring></soap:Fault>`);
}

const operations = ['GetInfractionsByPlate', 'GetInfractionsByCin', 'ListInfractionsSince', 'RecordOwnershipChange', 'RecordInfractions', 'GetPlateCheck', ...licenceOperations] as const;

export function wsdl(url: string): string {
  const messages = operations.map((op) => `<wsdl:message name="${op}Request"><wsdl:part name="parameters" element="inf:${op}"/></wsdl:message><wsdl:message name="${op}Response"><wsdl:part name="parameters" element="inf:${op}Response"/></wsdl:message>`).join('');
  const portOps = operations.map((op) => `<wsdl:operation name="${op}"><wsdl:input message="inf:${op}Request"/><wsdl:output message="inf:${op}Response"/></wsdl:operation>`).join('');
  const bindingOps = operations.map((op) => `<wsdl:operation name="${op}"><soap:operation soapAction="${infractionsNamespace}#${op}"/><wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:inf="${infractionsNamespace}" targetNamespace="${infractionsNamespace}" name="InfractionsService">${messages}<wsdl:portType name="InfractionsPort">${portOps}</wsdl:portType><wsdl:binding name="InfractionsBinding" type="inf:InfractionsPort"><soap:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>${bindingOps}</wsdl:binding><wsdl:service name="InfractionsService"><wsdl:port name="InfractionsPort" binding="inf:InfractionsBinding"><soap:address location="${escapeXml(url)}"/></wsdl:port></wsdl:service></wsdl:definitions>`;
}

export interface InfractionsSimulator {
  url: string;
  store: InfractionsStore;
  /** The next answers' fault (tests switch it; 'none' by default). */
  fault: SimulatorFault;
  /** How long a 'slow' answer waits before it is sent. */
  slowMs: number;
  /** The operations called, in order. */
  calls: string[];
  close(): Promise<void>;
}

/** Reads the operation's element and its text children (the system's requests are flat). */
async function readRequest(text: string): Promise<{ operation: string; params: Record<string, string>; raw: unknown }> {
  scanXml(text, { maxDepth: 8, maxRecords: 4 });
  const doc = (await parseStringPromise(text, { strict: true, explicitArray: false, ignoreAttrs: true, tagNameProcessors: [processors.stripPrefix] })) as Record<string, unknown>;
  const body = ((doc.Envelope as Record<string, unknown> | undefined)?.Body ?? {}) as Record<string, unknown>;
  const operation = Object.keys(body)[0] ?? '';
  const raw = body[operation];
  const params: Record<string, string> = {};
  if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') params[k] = v;
  return { operation, params, raw };
}

function answer(op: string, params: Record<string, string>, store: InfractionsStore, raw?: unknown): string {
  const licences = answerLicenceOperation(op, params, store.licences, store.epoch, (message) => new ClientFault(message));
  if (licences !== undefined) return licences;
  const list = (tickets: Ticket[]) => `<inf:Infractions>${tickets.map(ticketXml).join('')}</inf:Infractions>`;
  switch (op) {
    case 'GetInfractionsByPlate':
      if (!params.Plate || !parsePlate(params.Plate).ok) throw new ClientFault('Plate is missing or not a plate');
      return `<inf:GetInfractionsByPlateResponse>${list(store.byPlate(params.Plate))}</inf:GetInfractionsByPlateResponse>`;
    case 'GetInfractionsByCin': {
      if (!params.Cin) throw new ClientFault('Cin is missing');
      const points = store.points.get(params.Cin);
      return `<inf:GetInfractionsByCinResponse>${element('LicencePoints', points)}${list(store.byCin(params.Cin))}</inf:GetInfractionsByCinResponse>`;
    }
    case 'ListInfractionsSince': {
      const cursor = Number(params.Cursor ?? '0');
      const max = Number(params.MaxResults ?? '100');
      if (!Number.isSafeInteger(cursor) || cursor < 0 || !Number.isSafeInteger(max) || max < 1 || max > 1000) throw new ClientFault('Cursor or MaxResults out of range');
      const page = store.since(cursor, max);
      return `<inf:ListInfractionsSinceResponse>${element('Epoch', store.epoch)}${element('Cursor', page.cursor)}${element('More', String(page.more))}${list(page.tickets)}</inf:ListInfractionsSinceResponse>`;
    }
    case 'RecordOwnershipChange': {
      const from = params.EffectiveDate ?? '';
      if (!params.Plate || !parsePlate(params.Plate).ok || !params.OwnerCin || !/^\d{4}-\d{2}-\d{2}$/.test(from)) throw new ClientFault('Plate, OwnerCin and EffectiveDate (YYYY-MM-DD) are required');
      const changed = store.recordOwnership(params.Plate, params.OwnerCin, from);
      if (changed) store.ownershipChanges.push({ plate: params.Plate, ownerCin: params.OwnerCin, from });
      return `<inf:RecordOwnershipChangeResponse>${element('Recorded', String(changed))}</inf:RecordOwnershipChangeResponse>`;
    }
    case 'RecordInfractions':
      return recordInfractionsAnswer(store.agentBatches, raw, (reason) => new ClientFault(reason));
    case 'GetPlateCheck': {
      if (!params.Plate || !parsePlate(params.Plate).ok) throw new ClientFault('Plate is missing or not a plate');
      const date = params.Date ?? new Date().toISOString().slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new ClientFault('Date is not YYYY-MM-DD');
      const check = store.plateCheck(params.Plate, date);
      return `<inf:GetPlateCheckResponse>${element('OwnerCin', check.ownerCin)}${list(check.unpaid)}</inf:GetPlateCheckResponse>`;
    }
    default:
      throw new ClientFault(`unknown operation ${op.slice(0, 64)}`);
  }
}

class ClientFault extends Error {}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType }).end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, sim: InfractionsSimulator): Promise<void> {
  if (req.method === 'GET' && (req.url ?? '').endsWith('?wsdl')) return send(res, 200, 'text/xml; charset=utf-8', wsdl(sim.url));
  if (req.method !== 'POST') return send(res, 405, 'text/plain', 'POST a SOAP envelope');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) return send(res, 500, 'text/xml; charset=utf-8', soapFault('soap:Client', 'request too large'));
    chunks.push(chunk);
  }
  let body: string;
  try {
    const { operation, params, raw } = await readRequest(Buffer.concat(chunks).toString('utf8'));
    sim.calls.push(operation);
    if (sim.fault === 'soap-fault') return send(res, 500, 'text/xml; charset=utf-8', soapFault('soap:Server', 'ORA-12541: TNS:no listener'));
    if (sim.fault === 'html-200') return send(res, 200, 'text/html', '<html><head><title>Erreur</title></head><body><h1>Service momentanément indisponible</h1></body></html>');
    body = soapEnvelope(answer(operation, params, sim.store, raw));
  } catch (err) {
    return send(res, 500, 'text/xml; charset=utf-8', soapFault(err instanceof ClientFault ? 'soap:Client' : 'soap:Server', err instanceof ClientFault ? err.message : 'the request could not be read'));
  }
  if (sim.fault === 'truncated') return send(res, 200, 'text/xml; charset=utf-8', body.slice(0, Math.floor(body.length / 2)));
  if (sim.fault === 'charset') return send(res, 200, 'text/xml; charset=windows-1256', body.replace('encoding="UTF-8"', 'encoding="windows-1256"'));
  if (sim.fault === 'slow') await new Promise((resolve) => setTimeout(resolve, sim.slowMs));
  send(res, 200, 'text/xml; charset=utf-8', body);
}

export async function startInfractionsSimulator(options: { port?: number } = {}): Promise<InfractionsSimulator> {
  const sim: InfractionsSimulator = { url: '', store: new InfractionsStore(), fault: 'none', slowMs: 2000, calls: [], close: async () => undefined };
  const server = await serveLocal(
    (req, res) => {
      handle(req, res, sim).catch(() => {
        if (!res.headersSent) send(res, 500, 'text/xml; charset=utf-8', soapFault('soap:Server', 'internal error'));
      });
    },
    { ...(options.port !== undefined ? { port: options.port } : {}), dropInFlight: true },
  );
  sim.url = `${server.url}/InfractionsService`;
  sim.close = server.close;
  return sim;
}
