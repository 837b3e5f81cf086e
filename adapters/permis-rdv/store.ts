// The appointment system's store: its data, a change sequence for what its own staff change (the hub pulls it), the
// suspended CINs, and the rules of its screens (slots per centre, the statistics table, booking).
import { examSlots, generatePermisData, type Candidate, type DrivingSchool, type ExamCentre, type LicenceRequest, type PermisData, type RequestUse } from './data.ts';

export interface Change<T> {
  seq: number;
  item: T;
}

export interface ChangePage<T> {
  items: Array<{ version: number; item: T }>;
  cursor: number;
  more: boolean;
}

/** A person change as the hub pushes it (the persons referential's vocabulary), keyed by CIN. */
export interface PersonChange {
  cin: string;
  firstNameLatin?: string;
  lastNameLatin?: string;
  firstNameArabic?: string;
  lastNameArabic?: string;
  birthDate?: string;
  status?: string;
  deathDate?: string;
  /** The driving licence's state as the infractions system reports it (the persons' `licence` attribute). */
  licence?: { status: 'valid' | 'suspended'; points: number; suspendedAt?: string };
}

/** A block on a CIN's bookings: by the system's staff (POST /suspensions), or from the hub's licence state. */
export interface Suspension {
  reason: string;
  until: string | null;
  /** From the licence's state pushed by the hub: lifted by the hub when the licence is valid again. */
  fromLicence?: boolean;
}

export type BookingResult =
  | { ok: true; request: LicenceRequest }
  | { ok: false; status: 404 | 409 | 422; reason: string; field: string };

export interface BookingInput {
  cin: string;
  centre: string;
  date: string;
  slot: string;
  use: RequestUse;
  schoolAgentNumber: string;
}

export class PermisStore {
  readonly data: PermisData;
  private seq = 0;
  private readonly candidateSeq = new Map<string, Change<Candidate>>();
  private readonly schoolSeq = new Map<string, Change<DrivingSchool>>();
  private readonly versions = new Map<string, number>();
  readonly suspended = new Map<string, Suspension>();
  /** Person changes the hub pushed, in arrival order. */
  readonly fromHub: PersonChange[] = [];
  private nextNumber = 1;

  constructor(options: { seed: number; candidates: number; schools: number }) {
    this.data = generatePermisData(options);
    for (const c of this.data.candidates) this.touchCandidate(c);
    for (const s of this.data.schools) this.touchSchool(s);
  }

  private bump(key: string): number {
    const v = (this.versions.get(key) ?? 0) + 1;
    this.versions.set(key, v);
    return v;
  }

  /** Records a change by the system's own staff: listed to the hub at its next pull. */
  touchCandidate(c: Candidate): void {
    this.bump(`c:${c.cin}`);
    this.candidateSeq.set(c.cin, { seq: ++this.seq, item: c });
  }

  touchSchool(s: DrivingSchool): void {
    this.bump(`s:${s.agentNumber}`);
    this.schoolSeq.set(s.agentNumber, { seq: ++this.seq, item: s });
  }

  candidate(cin: string): Candidate | undefined {
    return this.data.candidates.find((c) => c.cin === cin);
  }

  candidatesSince(since: number, limit: number): ChangePage<Candidate> {
    return this.page(this.candidateSeq, since, limit, (c) => `c:${c.cin}`);
  }

  schoolsSince(since: number, limit: number): ChangePage<DrivingSchool> {
    return this.page(this.schoolSeq, since, limit, (s) => `s:${s.agentNumber}`);
  }

  private page<T>(changes: Map<string, Change<T>>, since: number, limit: number, key: (item: T) => string): ChangePage<T> {
    const after = [...changes.values()].filter((c) => c.seq > since).sort((a, b) => a.seq - b.seq);
    const taken = after.slice(0, limit);
    return { items: taken.map((c) => ({ version: this.versions.get(key(c.item)) ?? 1, item: c.item })), cursor: taken.at(-1)?.seq ?? since, more: after.length > limit };
  }

  centre(code: string): ExamCentre | undefined {
    return this.data.centres.find((c) => c.code === code);
  }

  /** Each slot of a centre's day: its capacity, how many are booked, how many are left. */
  slots(centre: ExamCentre, date: string): Array<{ slot: string; capacity: number; booked: number; available: number }> {
    return examSlots.map((slot) => {
      const booked = this.data.requests.filter((r) => r.centre === centre.code && r.date === date && r.slot === slot && r.state !== 'Annulée').length;
      return { slot, capacity: centre.capacity, booked, available: Math.max(0, centre.capacity - booked) };
    });
  }

  /** Appointments per month (YYYY-MM) and half-hour slot, counted from the requests (optionally of one centre). */
  statistics(year: number, centre?: string): Array<{ month: string; counts: Record<string, number>; total: number }> {
    const rows: Array<{ month: string; counts: Record<string, number>; total: number }> = [];
    for (let m = 1; m <= 12; m++) {
      const month = `${year}-${String(m).padStart(2, '0')}`;
      const counts = Object.fromEntries(examSlots.map((s) => [s, 0])) as Record<string, number>;
      for (const r of this.data.requests) {
        if (r.state === 'Annulée' || !r.date.startsWith(month) || (centre && r.centre !== centre)) continue;
        counts[r.slot] = (counts[r.slot] ?? 0) + 1;
      }
      rows.push({ month, counts, total: Object.values(counts).reduce((a, b) => a + b, 0) });
    }
    return rows;
  }

  /** Books an exam slot: refused for an unknown or closed candidate, a suspended CIN, an unknown centre or slot, a full slot. */
  book(input: BookingInput): BookingResult {
    const candidate = this.candidate(input.cin);
    if (!candidate) return { ok: false, status: 404, reason: 'no candidate with this CIN', field: 'cin' };
    if (candidate.state === 'closed') return { ok: false, status: 409, reason: 'the candidate file is closed', field: 'cin' };
    const suspension = this.suspended.get(input.cin);
    if (suspension) return { ok: false, status: 409, reason: `the CIN is under suspension: ${suspension.reason}`, field: 'cin' };
    const centre = this.centre(input.centre);
    if (!centre) return { ok: false, status: 404, reason: 'no such exam centre', field: 'centre' };
    if (!examSlots.includes(input.slot)) return { ok: false, status: 422, reason: `slot must be one of ${examSlots.join(', ')}`, field: 'slot' };
    if (!this.data.schools.some((s) => s.agentNumber === input.schoolAgentNumber)) return { ok: false, status: 404, reason: 'no such driving school', field: 'schoolAgentNumber' };
    const slot = this.slots(centre, input.date).find((s) => s.slot === input.slot);
    if (!slot || slot.available === 0) return { ok: false, status: 409, reason: 'the slot is full', field: 'slot' };
    const n = this.nextNumber++;
    const request: LicenceRequest = {
      number: `${String(90_000 + n).padStart(5, '0')}-${String(10_000 + n).padStart(5, '0')}-${String(n % 1000).padStart(3, '0')}`,
      cin: input.cin, schoolAgentNumber: input.schoolAgentNumber, use: input.use, category: 'B', state: 'Validée',
      queueNumber: this.data.requests.length + 1, centre: centre.code, date: input.date, slot: input.slot, testState: 'Prévu', examStatus: 'Non passé', theme: 'theory',
    };
    this.data.requests.push(request);
    return { ok: true, request };
  }

  /**
   * Applies a person change from the hub: identity corrections, and a death closes the candidate file. Not listed back
   * as the system's own change (no echo). A CIN the system does not hold is ignored: not every person is a candidate.
   */
  applyPersonChange(change: PersonChange): boolean {
    // A licence's state applies to any CIN: one suspended before filing a request must not be able to book either.
    if (change.licence) this.applyLicence(change.cin, change.licence);
    const c = this.candidate(change.cin);
    if (!c) return false;
    this.fromHub.push(change);
    for (const key of ['firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic', 'birthDate'] as const) {
      const value = change[key];
      if (typeof value === 'string' && value.length > 0) c[key] = value;
    }
    if (change.status === 'deceased' || change.deathDate) {
      c.state = 'closed';
      if (change.deathDate) c.deathDate = change.deathDate;
    }
    return true;
  }

  /**
   * A suspended licence blocks the CIN's bookings; a valid one lifts the block the hub set (never one the system's
   * staff set themselves). Applying the same state twice changes nothing.
   */
  private applyLicence(cin: string, licence: NonNullable<PersonChange['licence']>): void {
    const current = this.suspended.get(cin);
    if (licence.status === 'suspended') {
      if (current && !current.fromLicence) return;
      const reason = `driving licence suspended${licence.suspendedAt ? ` since ${licence.suspendedAt}` : ''}: no points left (infractions register, ${licence.points} points)`;
      this.suspended.set(cin, { reason, until: null, fromLicence: true });
    } else if (current?.fromLicence) {
      this.suspended.delete(cin);
    }
  }
}
