// The BTP platform's own copy of its companies, as a real system keeps one: edited by its staff (local changes, listed
// to the hub by a change sequence) and updated by the hub's pushed company changes (not listed back: the hub knows
// them). In memory, seeded from data.ts at each start; `epoch` names this instance's sequence, so an integration that
// kept a cursor of an earlier instance knows to start over.
import { randomBytes } from 'node:crypto';
import { companies as seed, type CompanyProfile, type CompanyRecord } from './data.ts';

interface Held {
  record: CompanyRecord;
  version: number;
  updatedAt: string;
  /** Position in the change sequence of its last local change. */
  seq: number;
  profileJson?: string;
  classificationJson?: string;
  /** The last golden-record version the hub pushed for it. */
  hub?: { goldenId: string; version: number };
  /** When the platform's staff last edited it (a hub change older than that is stale: the edit is on its way). */
  editedAt?: number;
}

export interface CompanyChangePage {
  epoch: string;
  items: Array<{ ice: string; version: number; updatedAt: string; profile: CompanyProfile }>;
  cursor: number;
  more: boolean;
}

/** A local edit by the platform's staff. */
export interface CompanyEdit {
  raisonSociale?: string;
  raisonSocialeAr?: string;
  adresse?: { ligne?: string };
  capitalSocial?: number;
}

/** A golden company change as the hub pushes it (attributes in the companies referential's vocabulary). */
export interface HubCompanyChange {
  goldenId: string;
  version: number;
  /** When the golden record changed (the push's `at`). */
  at: string;
  attributes: Record<string, unknown> | null;
}

export class BtpStore {
  readonly epoch = randomBytes(6).toString('hex');
  private readonly held = new Map<string, Held>();
  private seq = 0;
  /** The change sequence the hub has taken in (changesSince). */
  private takenInThrough = 0;
  /** Changes taken from the hub's pushes, in order (what the demo and the tests look at). */
  readonly fromHub: Array<{ ice: string; goldenId: string; version: number }> = [];

  constructor(initial: readonly CompanyRecord[] = seed) {
    const at = new Date().toISOString();
    for (const record of initial) this.held.set(record.profile.ice, { record: structuredClone(record) as CompanyRecord, version: 1, updatedAt: at, seq: ++this.seq });
  }

  all(): CompanyRecord[] {
    return [...this.held.values()].map((h) => h.record);
  }

  get(ice: string): CompanyRecord | undefined {
    return this.held.get(ice)?.record;
  }

  version(ice: string): number | undefined {
    return this.held.get(ice)?.version;
  }

  /** The answers, serialised once per version (the lookups are the benchmarks' path). */
  profileJson(ice: string): string | undefined {
    const h = this.held.get(ice);
    if (!h) return undefined;
    return (h.profileJson ??= JSON.stringify(h.record.profile));
  }

  classificationJson(ice: string): string | undefined {
    const h = this.held.get(ice);
    if (!h) return undefined;
    return (h.classificationJson ??= JSON.stringify(h.record.classification));
  }

  /** Companies changed locally after `since`, oldest change first; `cursor` is where the next page starts. */
  changesSince(since: number, limit: number): CompanyChangePage {
    // The hub's adapter asks from its cursor, moved only once a page is taken in: everything up to `since` has reached
    // the hub. Capped at this start's sequence: a cursor of an earlier start acknowledges nothing of this one.
    if (since <= this.seq) this.takenInThrough = Math.max(this.takenInThrough, since);
    const after = [...this.held.values()].filter((h) => h.seq > since).sort((a, b) => a.seq - b.seq);
    const page = after.slice(0, limit);
    return {
      epoch: this.epoch,
      items: page.map((h) => ({ ice: h.record.profile.ice, version: h.version, updatedAt: h.updatedAt, profile: h.record.profile })),
      cursor: page.at(-1)?.seq ?? since,
      more: after.length > page.length,
    };
  }

  /** A local edit: a new version, listed to the hub. */
  edit(ice: string, edit: CompanyEdit): CompanyRecord | undefined {
    const h = this.held.get(ice);
    if (!h) return undefined;
    const p = h.record.profile;
    if (edit.raisonSociale !== undefined) {
      p.raisonSociale = edit.raisonSociale;
      h.record.classification.raisonSociale = edit.raisonSociale;
    }
    if (edit.raisonSocialeAr !== undefined) p.raisonSocialeAr = edit.raisonSocialeAr;
    if (edit.adresse?.ligne !== undefined) p.adresse.ligne = edit.adresse.ligne;
    if (edit.capitalSocial !== undefined) p.capitalSocial = edit.capitalSocial;
    this.touch(h);
    h.editedAt = Date.now();
    h.seq = ++this.seq;
    return h.record;
  }

  /**
   * A golden change pushed by the hub: applied to the company with that ICE if the platform has it, and if it is newer
   * than the last one applied (a push delivered twice, or late, changes nothing). Not listed back to the hub.
   */
  applyFromHub(change: HubCompanyChange): 'applied' | 'unknown' | 'stale' | 'kept-local' {
    const a = change.attributes ?? {};
    const ice = typeof a.ice === 'string' ? a.ice : undefined;
    const h = ice ? this.held.get(ice) : undefined;
    if (!h || !ice) return 'unknown';
    if (h.hub && h.hub.goldenId === change.goldenId && h.hub.version >= change.version) return 'stale';
    // A golden change made before the staff's last edit: the edit wins here, and reaches the hub by the next pull.
    if (h.editedAt !== undefined && Date.parse(change.at) < h.editedAt) return 'stale';
    // A staff edit the hub has not taken in yet keeps its values: a golden change made without it would overwrite it
    // here, the next pull would list the company unchanged, and the edit would be lost. The change is recorded (a
    // later delivery of it is stale); the hub pushes again once it has the edit (docs/decisions.md §29).
    if (h.editedAt !== undefined && h.seq > this.takenInThrough) {
      h.hub = { goldenId: change.goldenId, version: change.version };
      return 'kept-local';
    }
    const p = h.record.profile;
    if (typeof a.nameFr === 'string') {
      p.raisonSociale = a.nameFr;
      h.record.classification.raisonSociale = a.nameFr;
    }
    if (typeof a.nameAr === 'string') p.raisonSocialeAr = a.nameAr;
    if (typeof a.address === 'string') p.adresse.ligne = a.address;
    h.hub = { goldenId: change.goldenId, version: change.version };
    this.touch(h);
    this.fromHub.push({ ice, goldenId: change.goldenId, version: change.version });
    return 'applied';
  }

  /**
   * A change made by the platform's own review workflow (adapters/btp-qualification/workflow.ts: a dossier moved on, a
   * sanction applied): a new version of the dossier, not listed to the hub (none of it is a companies-referential attribute).
   */
  update(ice: string, change: (record: CompanyRecord) => void): boolean {
    const h = this.held.get(ice);
    if (!h) return false;
    change(h.record);
    this.touch(h);
    return true;
  }

  private touch(h: Held): void {
    h.version++;
    h.updatedAt = new Date().toISOString();
    h.profileJson = undefined;
    h.classificationJson = undefined;
  }
}
