// A regional office on an intermittent link, as a folder it works in:
//   outbox/               the CSV and XML batches of its local corrections it drops for the hub (the hub's reader
//                         moves each to outbox/done/ or outbox/quarantine/)
//   inbox/<referential>/  the numbered NDJSON change files the hub writes for it (file-mode subscriptions, one per referential)
//   store/                its own copy of its region's records, in its own shape (records.json), where it is in each
//                         inbox (state.json), and the corrections made while the link was down (pending.json)
// It reads and writes only while online (a window in each period); what it corrects offline waits in pending.json.
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { csvRecord } from '../../src/golden/csv.ts';
import { officeColumns } from './drop-folder.ts';
import type { RegionalOffice } from './office.ts';

export type OfficeReferential = 'persons' | 'companies' | 'vehicles';
export const officeReferentials: readonly OfficeReferential[] = ['persons', 'companies', 'vehicles'];

/** The office's own words for what it keeps. */
const shelf: Record<OfficeReferential, 'personnes' | 'entreprises' | 'vehicules'> = { persons: 'personnes', companies: 'entreprises', vehicles: 'vehicules' };

/** A record as the office keeps it: the hub's id and version, its state, and the data under the office's own keys. */
export interface OfficeRecord {
  ref: string;
  version: number;
  etat: string;
  fusionneDans: string | null;
  majLe: string;
  donnees: Record<string, unknown>;
}

export type OfficeStore = Record<'personnes' | 'entreprises' | 'vehicules', Record<string, OfficeRecord>>;

/** One change line of a hub change file. */
export interface ChangeLine {
  id: string;
  seq: number;
  type: string;
  goldenId: string;
  version: number;
  at: string;
  record: { goldenId: string; version: number; status: string; mergedInto: string | null; attributes: Record<string, unknown> };
}

export interface InboxState {
  /** The last change file applied: its number and name. */
  lastFile: { number: number; name: string } | null;
  /** The last change seq applied (a change seen again in a later file is skipped). */
  lastSeq: number;
}

export interface OfficeState {
  inboxes: Partial<Record<OfficeReferential, InboxState>>;
  /** The number of the office's last outbox file. */
  written: number;
}

/** A correction made at the office's counter: its local id, its version of the record, the columns it sets. */
export interface Correction {
  localId: string;
  version: number;
  values: Record<string, string>;
}

export interface OnlineSchedule {
  /** Length of one cycle, and how much of its start the link is up. */
  periodMs: number;
  onlineMs: number;
}

export interface OfficeTick {
  online: boolean;
  /** Change files applied, per referential, in order. */
  applied: Array<{ referential: OfficeReferential; file: string; changes: number }>;
  /** Outbox files written. */
  written: string[];
}

/** The number in a change file's name (its last run of digits): `changes-000012.ndjson` is 12. */
export function changeFileNumber(name: string): number | undefined {
  const runs = name.replace(/\.ndjson$/i, '').match(/\d+/g);
  return runs ? Number(runs[runs.length - 1]) : undefined;
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Writes through a temporary name and renames: a reader never sees half a file. */
async function writeAtomically(path: string, dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `.${name}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

async function readJson<T>(path: string, empty: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw err;
  }
}

export class RegionalOfficeSimulator {
  readonly outbox: string;
  readonly inbox: string;
  private readonly storeDir: string;

  constructor(
    readonly office: RegionalOffice,
    readonly root: string,
    private readonly schedule: OnlineSchedule = { periodMs: 60_000, onlineMs: 20_000 },
  ) {
    this.outbox = join(root, 'outbox');
    this.inbox = join(root, 'inbox');
    this.storeDir = join(root, 'store');
  }

  /** The folders, made if missing (the hub's file subscriptions write into inbox/<referential>/). */
  async init(): Promise<this> {
    for (const dir of [this.outbox, this.storeDir, ...officeReferentials.map((r) => join(this.inbox, r))]) await mkdir(dir, { recursive: true });
    return this;
  }

  /** Whether the link is up at `now`: the first `onlineMs` of each `periodMs`. */
  isOnline(now: Date = new Date()): boolean {
    return now.getTime() % this.schedule.periodMs < this.schedule.onlineMs;
  }

  async records(): Promise<OfficeStore> {
    return readJson<OfficeStore>(join(this.storeDir, 'records.json'), { personnes: {}, entreprises: {}, vehicules: {} });
  }

  async state(): Promise<OfficeState> {
    return readJson<OfficeState>(join(this.storeDir, 'state.json'), { inboxes: {}, written: 0 });
  }

  async pending(): Promise<Partial<Record<OfficeReferential, Correction[]>>> {
    return readJson(join(this.storeDir, 'pending.json'), {});
  }

  /** A correction made at the counter: kept in pending.json until the link is up. */
  async correct(referential: OfficeReferential, correction: Correction): Promise<void> {
    const pending = await this.pending();
    (pending[referential] ??= []).push(correction);
    await writeAtomically(join(this.storeDir, 'pending.json'), this.storeDir, 'pending.json', JSON.stringify(pending));
  }

  /** One turn: offline, nothing; online, the inboxes read and the pending corrections dropped (CSV and XML in turn). */
  async tick(now: Date = new Date()): Promise<OfficeTick> {
    const result: OfficeTick = { online: this.isOnline(now), applied: [], written: [] };
    if (!result.online) return result;
    result.applied = await this.readChanges();
    const pending = await this.pending();
    for (const referential of officeReferentials) {
      const corrections = pending[referential];
      if (!corrections || corrections.length === 0) continue;
      const format = (await this.state()).written % 2 === 0 ? 'csv' : 'xml';
      result.written.push(await this.writeCorrections(referential, corrections, format));
      delete pending[referential];
      await writeAtomically(join(this.storeDir, 'pending.json'), this.storeDir, 'pending.json', JSON.stringify(pending));
    }
    return result;
  }

  /**
   * Drops a batch of corrections into the outbox as `<referential>-<office>-<n>.csv|xml`, `n` the office's running file
   * number. Columns: sourceId, sourceVersion and those the corrections set, in the referential's column order.
   */
  async writeCorrections(referential: OfficeReferential, corrections: readonly Correction[], format: 'csv' | 'xml'): Promise<string> {
    const state = await this.state();
    const n = state.written + 1;
    const name = `${referential}-${this.office.id.replace(/\./g, '_')}-${String(n).padStart(6, '0')}.${format}`;
    const known = officeColumns(referential) ?? [];
    const used = known.filter((c) => corrections.some((k) => k.values[c] !== undefined));
    let text: string;
    if (format === 'csv') {
      const lines = [csvRecord(['sourceId', 'sourceVersion', ...used]), ...corrections.map((c) => csvRecord([c.localId, c.version, ...used.map((u) => c.values[u] ?? '')]))];
      text = `${lines.join('\r\n')}\r\n`;
    } else {
      const element = (c: Correction): string => {
        // Dotted columns nest: owner.type and owner.cin go in one <owner>.
        const groups = new Map<string, string[]>();
        const parts: string[] = [];
        for (const column of used) {
          const value = c.values[column];
          if (value === undefined) continue;
          const [head, tail] = column.split('.', 2) as [string, string | undefined];
          if (tail === undefined) parts.push(`<${head}>${escapeXml(value)}</${head}>`);
          else (groups.get(head) ?? groups.set(head, []).get(head))?.push(`<${tail}>${escapeXml(value)}</${tail}>`);
        }
        for (const [head, inner] of groups) parts.push(`<${head}>${inner.join('')}</${head}>`);
        return `  <record sourceId="${escapeXml(c.localId)}" sourceVersion="${c.version}">\n    ${parts.join('\n    ')}\n  </record>`;
      };
      text = `<?xml version="1.0" encoding="UTF-8"?>\n<corrections office="${escapeXml(this.office.id)}" referential="${referential}">\n${corrections.map(element).join('\n')}\n</corrections>\n`;
    }
    await writeAtomically(join(this.outbox, name), this.outbox, name, text);
    await this.saveState({ ...state, written: n });
    return name;
  }

  /**
   * Applies the change files waiting in each inbox, in number order, from the one after the last applied; the local
   * copy and the position are saved after each file, so a restart resumes at the next file. A change is applied only
   * if newer than the local record (a change seen again is skipped by its seq).
   */
  async readChanges(): Promise<OfficeTick['applied']> {
    const applied: OfficeTick['applied'] = [];
    for (const referential of officeReferentials) {
      const dir = join(this.inbox, referential);
      const names = await readdir(dir).catch(() => [] as string[]);
      const files = names
        .filter((n) => n.toLowerCase().endsWith('.ndjson') && !n.startsWith('.'))
        .map((name) => ({ name, number: changeFileNumber(name) }))
        .filter((f): f is { name: string; number: number } => f.number !== undefined)
        .sort((a, b) => a.number - b.number || (a.name < b.name ? -1 : 1));
      for (const file of files) {
        const state = await this.state();
        const at: InboxState = state.inboxes[referential] ?? { lastFile: null, lastSeq: 0 };
        if (at.lastFile && file.number <= at.lastFile.number) continue;
        const lines = (await readFile(join(dir, file.name), 'utf8')).split('\n').filter((l) => l.trim() !== '');
        const store = await this.records();
        const kept = store[shelf[referential]];
        let lastSeq = at.lastSeq;
        for (const line of lines) {
          const change = JSON.parse(line) as ChangeLine;
          if (change.seq <= lastSeq) continue;
          lastSeq = change.seq;
          const local = kept[change.goldenId];
          if (local && local.version >= change.record.version) continue;
          kept[change.goldenId] = { ref: change.goldenId, version: change.record.version, etat: change.record.status, fusionneDans: change.record.mergedInto, majLe: change.at, donnees: change.record.attributes };
        }
        await writeAtomically(join(this.storeDir, 'records.json'), this.storeDir, 'records.json', JSON.stringify(store));
        await this.saveState({ ...state, inboxes: { ...state.inboxes, [referential]: { lastFile: { number: file.number, name: file.name }, lastSeq } } });
        applied.push({ referential, file: file.name, changes: lines.length });
      }
    }
    return applied;
  }

  private async saveState(state: OfficeState): Promise<void> {
    await writeAtomically(join(this.storeDir, 'state.json'), this.storeDir, 'state.json', JSON.stringify(state));
  }
}
