// The occupation system's register, as a real system keeps it: its holders (edited at its counter: local changes,
// listed to the hub by a change sequence) and their permits; updated by the golden company and person changes the hub
// pushes (not listed back: the hub knows them). In memory, generated from data.ts at each start; `epoch` names this
// instance's sequence, so an integration that kept a cursor of an earlier instance knows to start over.
import { randomBytes } from 'node:crypto';
import { territory } from '../../referentials/territory/territory.ts';
import { generateDpmData, type DpmData, type Holder, type Permit, type PermitFlag } from './data.ts';

export interface HolderChangePage {
  epoch: string;
  items: Array<{ version: number; holder: Holder }>;
  cursor: number;
  more: boolean;
}

/** A golden change as the hub pushes it, in the referentials' vocabulary. */
export interface HubHolderChange {
  referential: 'companies' | 'persons';
  goldenId: string;
  version: number;
  attributes: Record<string, unknown>;
}

export type HubChangeOutcome = 'applied' | 'unknown' | 'stale';

interface Held {
  holder: Holder;
  version: number;
  seq: number;
  /** The last golden version applied to it. */
  hub?: { goldenId: string; version: number };
  /** Corrected at the counter (editHolder) at least once. */
  edited?: boolean;
}

/** A permit as the system answers it: its holder inline, its commune under today's code. */
export interface PermitView extends Omit<Permit, 'holderRef' | 'commune'> {
  holder: Holder;
  commune: { code: string; name: string; filedAs?: string };
}

export class DpmStore {
  readonly epoch = randomBytes(6).toString('hex');
  readonly data: DpmData;
  private readonly held = new Map<string, Held>();
  private seq = 0;
  /** The change sequence the hub has taken in: the highest `since` it asked from (its cursor moves after a take-in). */
  private takenInThrough = 0;
  private readonly places = territory();
  /** Golden changes applied, in order (what the demo and the tests look at). */
  readonly fromHub: Array<{ ref: string; referential: string; goldenId: string; version: number }> = [];

  constructor(options: { seed: number; permits?: number }) {
    this.data = generateDpmData(options);
    for (const holder of this.data.holders) this.held.set(holder.ref, { holder, version: 1, seq: ++this.seq });
  }

  holder(ref: string): Holder | undefined {
    return this.held.get(ref)?.holder;
  }

  /** Holders changed locally after `since`, oldest change first. */
  holdersSince(since: number, limit: number): HolderChangePage {
    // Capped at this start's sequence: a cursor of an earlier start acknowledges nothing of this one.
    if (since <= this.seq) this.takenInThrough = Math.max(this.takenInThrough, since);
    const after = [...this.held.values()].filter((h) => h.seq > since).sort((a, b) => a.seq - b.seq);
    const page = after.slice(0, limit);
    return { epoch: this.epoch, items: page.map((h) => ({ version: h.version, holder: h.holder })), cursor: page.at(-1)?.seq ?? since, more: after.length > page.length };
  }

  /** A correction typed at the counter: a new version, listed to the hub. */
  editHolder(ref: string, edit: (holder: Holder) => void): Holder | undefined {
    const h = this.held.get(ref);
    if (!h) return undefined;
    edit(h.holder);
    h.version++;
    h.seq = ++this.seq;
    h.edited = true;
    return h.holder;
  }

  /** Today's code of a commune code (a 2014 code through the HCP crosswalk); undefined when it names no commune. */
  currentCommune(code: string): { code: string; name: string } | undefined {
    const resolved = this.places.resolve(code);
    return resolved.found && resolved.unit.kind === 'commune' ? { code: resolved.unit.code, name: resolved.unit.nameFr } : undefined;
  }

  view(permit: Permit): PermitView {
    const { holderRef, commune, ...rest } = permit;
    const current = this.currentCommune(commune);
    return {
      ...structuredClone(rest),
      holder: publicHolder(this.holder(holderRef) as Holder),
      commune: current ? { code: current.code, name: current.name, ...(current.code !== commune ? { filedAs: commune } : {}) } : { code: commune, name: commune },
    };
  }

  permit(number: string): Permit | undefined {
    return this.data.permits.find((p) => p.number === number);
  }

  /** Permits of every holder with this ICE or CIN (a company filed twice has both files' permits). */
  byHolderId(id: string): Permit[] {
    const refs = new Set([...this.held.values()].filter(({ holder: h }) => (h.kind === 'company' ? h.ice : h.cin) === id).map((h) => h.holder.ref));
    return this.data.permits.filter((p) => refs.has(p.holderRef));
  }

  /** Permits in a commune, given by today's code or its 2014 code, whichever the permit was filed under. */
  byCommune(code: string): Permit[] {
    const wanted = this.currentCommune(code)?.code;
    if (!wanted) return [];
    return this.data.permits.filter((p) => this.currentCommune(p.commune)?.code === wanted);
  }

  /**
   * A golden change pushed by the hub: applied to every holder with that ICE (companies) or CIN (persons), when newer
   * than the last one applied to it (a push delivered twice, or late, changes nothing). A company struck off the trade
   * register, or a person deceased, flags the holder's permits for the service to review; the names follow the golden
   * record, except over a counter correction the hub has not taken in yet.
   */
  applyFromHub(change: HubHolderChange): HubChangeOutcome {
    const a = change.attributes;
    const id = change.referential === 'companies' ? a.ice : a.cin;
    if (typeof id !== 'string') return 'unknown';
    const targets = [...this.held.values()].filter(({ holder: h }) => h.kind === (change.referential === 'companies' ? 'company' : 'person') && (h.kind === 'company' ? h.ice : h.cin) === id);
    if (targets.length === 0) return 'unknown';
    const fresh = targets.filter((t) => !(t.hub && t.hub.goldenId === change.goldenId && t.hub.version >= change.version));
    if (fresh.length === 0) return 'stale';
    for (const t of fresh) {
      const h = t.holder;
      // A counter correction the hub has not taken in yet keeps its names: a golden change made without it would
      // overwrite it, the next pull would list the holder unchanged, and the correction would be lost. The hub pushes
      // again once it has it (docs/decisions.md §29). The status (struck off, deceased) still applies.
      const names = !(t.edited && t.seq > this.takenInThrough);
      let flag: PermitFlag | undefined;
      if (h.kind === 'company') {
        if (names && typeof a.nameFr === 'string') h.raisonSociale = a.nameFr;
        if (names && typeof a.nameAr === 'string') h.raisonSocialeAr = a.nameAr;
        h.radiee = a.status === 'struck-off';
        if (h.radiee) flag = 'TITULAIRE_RADIE';
      } else {
        if (names && typeof a.lastNameLatin === 'string') h.nomLatin = a.lastNameLatin;
        if (names && typeof a.firstNameLatin === 'string') h.prenomLatin = a.firstNameLatin;
        if (names && typeof a.lastNameArabic === 'string') h.nomArabe = a.lastNameArabic;
        if (names && typeof a.firstNameArabic === 'string') h.prenomArabe = a.firstNameArabic;
        h.decede = a.status === 'deceased';
        if (h.decede) flag = 'TITULAIRE_DECEDE';
      }
      for (const p of this.data.permits.filter((x) => x.holderRef === h.ref)) {
        if (flag && !p.flags.includes(flag)) p.flags.push(flag);
        // A company back on the register (a struck-off reversed by the court) loses its flag.
        if (h.kind === 'company' && !h.radiee) p.flags = p.flags.filter((f) => f !== 'TITULAIRE_RADIE');
      }
      t.hub = { goldenId: change.goldenId, version: change.version };
      t.version++;
      this.fromHub.push({ ref: h.ref, referential: change.referential, goldenId: change.goldenId, version: change.version });
    }
    return 'applied';
  }

  /** One unit of the service's work (the demo's activity): a project's progress moves on, or an expired permit is closed. */
  work(random: () => number, today: string): string | undefined {
    const open = this.data.permits.filter((p) => p.state === 'EN_VIGUEUR');
    const underway = open.flatMap((p) => p.projects.filter((x) => x.progress < 100).map((x) => ({ p, x })));
    const pick = underway[Math.floor(random() * underway.length)];
    if (pick) {
      pick.x.progress = Math.min(100, pick.x.progress + 5 * (1 + Math.floor(random() * 3)));
      return `${pick.p.number}: ${pick.x.description} at ${pick.x.progress} %`;
    }
    const permit = open[Math.floor(random() * open.length)];
    if (!permit) return undefined;
    const date = today;
    permit.projects.push({ description: `Projet ${permit.usage} ${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`, date, progress: 0 });
    return `${permit.number}: a new project`;
  }
}

/** A holder as the permits service shows it: a person's birth date stays in the system (the service needs none). */
function publicHolder(holder: Holder): Holder {
  if (holder.kind === 'company') return { ...holder };
  const { dateNaissance: _omitted, ...shown } = holder;
  return shown;
}
