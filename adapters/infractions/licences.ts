// The infractions system's points register (issue 15): each licence holder's points, by CIN, and its state: a licence
// with no point left is suspended from the date of the offence that took the last ones; points given back (after the
// suspension, a road-safety course) make it valid again. Each change takes a number in the register's own sequence,
// which ListLicencesSince pages, so that the hub's adapter reads the suspensions as changes. The sequences restart
// with the process: `epoch` names this run, and a cursor of another run starts over (adapters/infractions/adapter.ts).
import { randomBytes } from 'node:crypto';

export const fullPoints = 30;

export interface Licence {
  cin: string;
  /** The holder's name as the licence file holds it (Arabic-only for some old files, absent for some). */
  holderNameLatin?: string;
  holderNameArabic?: string;
  points: number;
  status: 'valid' | 'suspended';
  /** YYYY-MM-DD, while suspended. */
  suspendedAt?: string;
  /** The register's change sequence (ListLicencesSince's cursor). */
  seq: number;
}

/** A name for this run of the system: two runs never share one, so a cursor knows the sequence it counts in. */
export function newEpoch(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export class LicenceRegister {
  readonly holders = new Map<string, Licence>();
  private seq = 0;

  /** `points`: the store's points by CIN, which GetInfractionsByCin answers; kept the same as the holders' here. */
  constructor(private readonly points: Map<string, number>) {}

  /** A licence issued (or found in the file): full points unless told, valid. Listed to the hub. */
  enrol(cin: string, names: { latin?: string; arabic?: string } = {}, points = fullPoints): Licence {
    const licence: Licence = { cin, ...(names.latin ? { holderNameLatin: names.latin } : {}), ...(names.arabic ? { holderNameArabic: names.arabic } : {}), points, status: points === 0 ? 'suspended' : 'valid', seq: ++this.seq };
    this.holders.set(cin, licence);
    this.points.set(cin, points);
    return licence;
  }

  /** Takes an offence's points off (a holder not yet in the file is entered with what the ticket tells of them). */
  deduct(cin: string, points: number, issuedAt: string, names: { latin?: string; arabic?: string } = {}): Licence {
    const licence = this.holders.get(cin) ?? this.enrol(cin, names);
    licence.points = Math.max(0, licence.points - points);
    if (licence.points === 0 && licence.status === 'valid') {
      licence.status = 'suspended';
      licence.suspendedAt = issuedAt.slice(0, 10);
    }
    return this.touch(licence);
  }

  /** Gives points back (the suspension served, a course followed): a suspended licence with points is valid again. */
  restore(cin: string, points: number): Licence | undefined {
    const licence = this.holders.get(cin);
    if (!licence) return undefined;
    licence.points = Math.min(fullPoints, licence.points + points);
    if (licence.points > 0 && licence.status === 'suspended') {
      licence.status = 'valid';
      delete licence.suspendedAt;
    }
    return this.touch(licence);
  }

  /**
   * A holder's name corrected by the hub (the civil registry's correction reaching this system). Not listed back as
   * a change of the register's own: the hub knows it already (no echo). false: no licence for this CIN.
   */
  correctName(cin: string, names: { latin?: string; arabic?: string }): boolean {
    const licence = this.holders.get(cin);
    if (!licence) return false;
    if (names.latin) licence.holderNameLatin = names.latin;
    if (names.arabic) licence.holderNameArabic = names.arabic;
    return true;
  }

  since(cursor: number, max: number): { licences: Licence[]; cursor: number; more: boolean } {
    const after = [...this.holders.values()].filter((l) => l.seq > cursor).sort((a, b) => a.seq - b.seq);
    const page = after.slice(0, max);
    return { licences: page, cursor: page.at(-1)?.seq ?? cursor, more: after.length > page.length };
  }

  private touch(licence: Licence): Licence {
    licence.seq = ++this.seq;
    this.points.set(licence.cin, licence.points);
    return licence;
  }
}

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const element = (name: string, value: string | number | undefined): string => (value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`);

export function licenceXml(l: Licence): string {
  return `<inf:Licence>${element('Cin', l.cin)}${element('HolderNameLatin', l.holderNameLatin)}${element('HolderNameArabic', l.holderNameArabic)}${element('Points', l.points)}${element('Status', l.status)}${element('SuspendedAt', l.suspendedAt)}${element('Sequence', l.seq)}</inf:Licence>`;
}

/** The register's SOAP operations (listed in the WSDL beside the tickets'). */
export const licenceOperations = ['ListLicencesSince', 'GetLicence', 'RecordIdentityCorrection'] as const;

/**
 * Answers one of the register's operations (the Response element), or undefined when `op` is not one of them.
 * `clientFault` makes the simulator's soap:Client fault for a request at fault.
 */
export function answerLicenceOperation(op: string, params: Readonly<Record<string, string>>, register: LicenceRegister, epoch: string, clientFault: (message: string) => Error): string | undefined {
  switch (op) {
    case 'ListLicencesSince': {
      const cursor = Number(params.Cursor ?? '0');
      const max = Number(params.MaxResults ?? '100');
      if (!Number.isSafeInteger(cursor) || cursor < 0 || !Number.isSafeInteger(max) || max < 1 || max > 1000) throw clientFault('Cursor or MaxResults out of range');
      const page = register.since(cursor, max);
      return `<inf:ListLicencesSinceResponse>${element('Epoch', epoch)}${element('Cursor', page.cursor)}${element('More', String(page.more))}<inf:Licences>${page.licences.map(licenceXml).join('')}</inf:Licences></inf:ListLicencesSinceResponse>`;
    }
    case 'GetLicence': {
      const licence = params.Cin ? register.holders.get(params.Cin) : undefined;
      if (!licence) throw clientFault('no licence for this Cin');
      return `<inf:GetLicenceResponse>${licenceXml(licence)}</inf:GetLicenceResponse>`;
    }
    case 'RecordIdentityCorrection': {
      if (!params.Cin || !/^[A-Z]{1,2}[0-9]{1,6}$/.test(params.Cin)) throw clientFault('Cin is missing or not a CIN');
      const latin = [params.FirstNameLatin, params.LastNameLatin].filter(Boolean).join(' ');
      const arabic = [params.FirstNameArabic, params.LastNameArabic].filter(Boolean).join(' ');
      if (!latin && !arabic) throw clientFault('a correction gives a name, in Latin or Arabic script');
      const applied = register.correctName(params.Cin, { ...(latin ? { latin } : {}), ...(arabic ? { arabic } : {}) });
      return `<inf:RecordIdentityCorrectionResponse>${element('Applied', String(applied))}</inf:RecordIdentityCorrectionResponse>`;
    }
    default:
      return undefined;
  }
}
