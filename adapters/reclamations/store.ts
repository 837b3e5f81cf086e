// The complaints platform's store: its data, the rules of its screens ("soumettre une réclamation", "suivre ma
// réclamation", an agent moving a complaint on, an agent correcting a complainant's name), the statistics table, and
// two change sequences the hub reads: complainants its staff changed, and status changes (for the citizen portal).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  categories, deadlineOf, generateComplaintsData, services, statuses,
  type Category, type Channel, type Complainant, type Complaint, type ComplaintsData, type ServiceCode, type Status,
} from './data.ts';

export interface ChangePage<T> {
  /** Numbers this start's sequences: a cursor of another epoch reads again from 0. */
  epoch: string;
  items: Array<{ version: number; item: T }>;
  cursor: number;
  more: boolean;
}

/** A status change as the portal is told of it; `version` orders one complaint's changes (the portal keeps the highest). */
export interface StatusChange {
  number: string;
  status: Status;
  statusLabel: string;
  at: string;
  service: ServiceCode | null;
  deadline: string;
  version: number;
  /** The complainant's CIN or ICE when the platform holds one (a complaint without is still followed by its number). */
  cin: string | null;
  ice: string | null;
}

/** A name correction an agent makes at the counter (the persons referential's vocabulary). */
export interface NameCorrection {
  firstNameLatin?: string;
  lastNameLatin?: string;
  firstNameArabic?: string;
  lastNameArabic?: string;
  nameFr?: string;
  nameAr?: string;
}

/** A person change the hub pushes (identity corrections), keyed by CIN, with the golden change it comes from. */
export interface PersonChange {
  cin: string;
  goldenId?: string;
  version?: number;
  /** When the golden record changed (ISO): a change older than an agent's last correction is stale here. */
  at?: string;
  firstNameLatin?: string;
  lastNameLatin?: string;
  firstNameArabic?: string;
  lastNameArabic?: string;
}

export interface Submission {
  complainant:
    | { kind: 'person'; cin?: string; firstNameLatin?: string; lastNameLatin?: string; firstNameArabic?: string; lastNameArabic?: string; phone?: string }
    | { kind: 'company'; ice?: string; nameFr?: string; nameAr?: string; phone?: string };
  subject: string;
  category: Category;
  channel: Channel;
  commune: string;
  description: string;
}

export type MoveResult = { ok: true; complaint: Complaint } | { ok: false; status: 404 | 409; reason: string; field: string };

export interface StatisticsFilter {
  commune?: string;
  category?: Category;
  status?: Status;
}

export interface StatisticsRow {
  commune: string;
  category: Category;
  status: Status;
  count: number;
}

interface Sequenced<T> {
  seq: number;
  item: T;
}

export class ComplaintsStore {
  readonly data: ComplaintsData;
  readonly epoch = randomBytes(6).toString('hex');
  private seq = 0;
  private readonly complainantSeq = new Map<string, Sequenced<Complainant>>();
  private readonly versions = new Map<string, number>();
  private readonly statusLog: Array<Sequenced<StatusChange>> = [];
  private readonly byNumber = new Map<string, Complaint>();
  private readonly complainants = new Map<string, Complainant>();
  /** Person changes the hub pushed and the platform applied, in arrival order. */
  readonly fromHub: PersonChange[] = [];
  /** When an agent last corrected each complainant (ms). */
  private readonly editedAt = new Map<string, number>();
  /**
   * The complainant sequence the hub has taken in: the highest `since` it has asked from (its adapter moves its
   * cursor only once a page is taken in). A complainant changed after that has a local change still on its way.
   */
  private takenInThrough = 0;
  /** The last golden change applied per CIN. */
  private readonly appliedFromHub = new Map<string, { goldenId: string; version: number }>();

  constructor(options: { seed: number; persons: number; companies: number }) {
    this.data = generateComplaintsData(options);
    for (const c of this.data.complainants) {
      this.complainants.set(c.id, c);
      this.touchComplainant(c);
    }
    for (const c of this.data.complaints) this.byNumber.set(c.number, c);
  }

  private touchComplainant(c: Complainant): void {
    this.versions.set(c.id, (this.versions.get(c.id) ?? 0) + 1);
    this.complainantSeq.set(c.id, { seq: ++this.seq, item: c });
  }

  complaint(number: string): Complaint | undefined {
    return this.byNumber.get(number);
  }

  complainant(id: string): Complainant | undefined {
    return this.complainants.get(id);
  }

  complainantsSince(since: number, limit: number): ChangePage<Complainant> {
    // Capped at this start's sequence: a cursor of an earlier start acknowledges nothing of this one.
    if (since <= this.seq) this.takenInThrough = Math.max(this.takenInThrough, since);
    const after = [...this.complainantSeq.values()].filter((c) => c.seq > since).sort((a, b) => a.seq - b.seq);
    const taken = after.slice(0, limit);
    return { epoch: this.epoch, items: taken.map((c) => ({ version: this.versions.get(c.item.id) ?? 1, item: c.item })), cursor: taken.at(-1)?.seq ?? since, more: after.length > limit };
  }

  /** Status changes made since this start (the generated history is the platform's past: the portal is told from now). */
  statusChangesSince(since: number, limit: number): ChangePage<StatusChange> {
    const after = this.statusLog.filter((c) => c.seq > since);
    const taken = after.slice(0, limit);
    return { epoch: this.epoch, items: taken.map((c) => ({ version: c.item.version, item: c.item })), cursor: taken.at(-1)?.seq ?? since, more: after.length > limit };
  }

  private logStatus(c: Complaint): void {
    const who = this.complainants.get(c.complainantId);
    const last = c.history.at(-1);
    this.statusLog.push({
      seq: ++this.seq,
      item: {
        number: c.number, status: c.status, statusLabel: statuses[c.status].label, at: last?.at ?? c.submittedAt, service: c.service, deadline: c.deadline,
        version: c.history.length, cin: who?.kind === 'person' ? who.cin : null, ice: who?.kind === 'company' ? who.ice : null,
      },
    });
  }

  /** "Soumettre une réclamation": a new complainant (or the one with that CIN/ICE), a tracking number and its access code. */
  submit(input: Submission, now = new Date()): Complaint {
    const key = input.complainant.kind === 'person' ? input.complainant.cin : input.complainant.ice;
    let who = key ? this.data.complainants.find((c) => (c.kind === 'person' ? c.cin : c.ice) === key && c.kind === input.complainant.kind) : undefined;
    if (!who) {
      const n = this.data.complainants.filter((c) => c.kind === input.complainant.kind).length + 1;
      const s = input.complainant;
      who = s.kind === 'person'
        ? { id: `P-${String(n).padStart(5, '0')}`, kind: 'person', cin: s.cin ?? null, firstNameLatin: s.firstNameLatin ?? null, lastNameLatin: s.lastNameLatin ?? null, firstNameArabic: s.firstNameArabic ?? null, lastNameArabic: s.lastNameArabic ?? null, commune: input.commune, phone: s.phone ?? null }
        : { id: `E-${String(n).padStart(5, '0')}`, kind: 'company', ice: s.ice ?? null, nameFr: s.nameFr ?? null, nameAr: s.nameAr ?? null, commune: input.commune, phone: s.phone ?? null };
      this.data.complainants.push(who);
      this.complainants.set(who.id, who);
      this.touchComplainant(who);
    }
    const year = now.getUTCFullYear();
    const complaint: Complaint = {
      number: `REC-${year}-${String(this.data.complaints.length + 1).padStart(6, '0')}`, accessCode: randomBytes(4).toString('hex').toUpperCase(),
      complainantId: who.id, subject: input.subject, category: input.category, channel: input.channel, commune: input.commune, description: input.description,
      status: 'deposee', service: null, submittedAt: now.toISOString(), deadline: deadlineOf(now), history: [{ status: 'deposee', at: now.toISOString(), service: null }],
    };
    this.data.complaints.push(complaint);
    this.byNumber.set(complaint.number, complaint);
    this.logStatus(complaint);
    return complaint;
  }

  /** "Suivre ma réclamation": the complaint when the access code is its own (compared in constant time), else undefined. */
  follow(number: string, accessCode: string): Complaint | undefined {
    const c = this.byNumber.get(number);
    const given = Buffer.from(accessCode.toUpperCase());
    const expected = Buffer.from(c?.accessCode ?? 'XXXXXXXX');
    const same = given.length === expected.length && timingSafeEqual(given, expected);
    return c && same ? c : undefined;
  }

  /** An agent moves a complaint on (only along statuses[…].next); the service defaults to the category's. */
  move(number: string, status: Status, options: { service?: ServiceCode; note?: string; now?: Date } = {}): MoveResult {
    const c = this.byNumber.get(number);
    if (!c) return { ok: false, status: 404, reason: 'no complaint with this number', field: 'number' };
    const allowed: readonly string[] = statuses[c.status].next;
    if (!allowed.includes(status)) return { ok: false, status: 409, reason: `a complaint ${c.status} cannot become ${status} (allowed: ${allowed.join(', ') || 'none'})`, field: 'status' };
    const service = options.service ?? c.service ?? (categories[c.category].service as ServiceCode);
    c.status = status;
    c.service = service;
    c.history.push({ status, at: (options.now ?? new Date()).toISOString(), service, ...(options.note ? { note: options.note } : {}) });
    this.logStatus(c);
    return { ok: true, complaint: c };
  }

  /** An agent corrects a complainant's name: listed to the hub at its next pull (this platform is the source). */
  correctName(id: string, correction: NameCorrection): Complainant | undefined {
    const c = this.complainants.get(id);
    if (!c) return undefined;
    if (c.kind === 'person') {
      for (const key of ['firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic'] as const) if (correction[key] !== undefined) c[key] = correction[key];
    } else {
      if (correction.nameFr !== undefined) c.nameFr = correction.nameFr;
      if (correction.nameAr !== undefined) c.nameAr = correction.nameAr;
    }
    this.touchComplainant(c);
    this.editedAt.set(c.id, Date.now());
    return c;
  }

  /**
   * A name correction from the hub, applied to the persons with that CIN; not listed back (no echo). A golden change
   * already applied (delivered twice, or late) or made before an agent's last correction of that complainant changes
   * nothing: the agent's correction wins here and reaches the hub by the next pull.
   */
  /** The last golden change (its id and version) applied to this CIN's complainants. */
  fromHubFor(cin: string): { goldenId: string; version: number } | undefined {
    return this.appliedFromHub.get(cin);
  }

  applyPersonChange(change: PersonChange): boolean {
    const held = this.data.complainants.filter((c) => c.kind === 'person' && c.cin === change.cin);
    if (held.length === 0) return false;
    const last = this.appliedFromHub.get(change.cin);
    if (last && change.goldenId === last.goldenId && change.version !== undefined && change.version <= last.version) return false;
    const at = change.at === undefined ? Number.NaN : Date.parse(change.at);
    if (held.some((c) => (this.editedAt.get(c.id) ?? -Infinity) > at || (Number.isNaN(at) && this.editedAt.has(c.id)))) return false;
    if (change.goldenId !== undefined && change.version !== undefined) this.appliedFromHub.set(change.cin, { goldenId: change.goldenId, version: change.version });
    this.fromHub.push(change);
    for (const c of held) {
      // A complainant whose own change the hub has not taken in yet keeps its names: a golden change made without it
      // (another system's update) would overwrite it here, the next pull would list it unchanged, and the agent's
      // correction would never reach the hub. The hub pushes again once it has the correction (docs/decisions.md §29).
      if (c.kind !== 'person' || this.unsentLocalChange(c.id)) continue;
      for (const key of ['firstNameLatin', 'lastNameLatin', 'firstNameArabic', 'lastNameArabic'] as const) {
        const value = change[key];
        if (typeof value === 'string' && value.length > 0) c[key] = value;
      }
    }
    return true;
  }

  /** Whether the complainant changed here (filed or corrected) after what the hub has taken in. */
  private unsentLocalChange(id: string): boolean {
    return (this.complainantSeq.get(id)?.seq ?? 0) > this.takenInThrough;
  }

  /** Complaints by commune, category and status (one row per combination that has any), filtered. */
  statistics(filter: StatisticsFilter): { total: number; rows: StatisticsRow[] } {
    const counts = new Map<string, StatisticsRow>();
    let total = 0;
    for (const c of this.data.complaints) {
      if ((filter.commune && c.commune !== filter.commune) || (filter.category && c.category !== filter.category) || (filter.status && c.status !== filter.status)) continue;
      total++;
      const key = `${c.commune}|${c.category}|${c.status}`;
      const row = counts.get(key);
      if (row) row.count++;
      else counts.set(key, { commune: c.commune, category: c.category, status: c.status, count: 1 });
    }
    const rows = [...counts.values()].sort((a, b) => a.commune.localeCompare(b.commune) || a.category.localeCompare(b.category) || a.status.localeCompare(b.status));
    return { total, rows };
  }
}

export const serviceCodes = Object.keys(services) as ServiceCode[];
