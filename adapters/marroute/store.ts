// MARROUTE's rules over its data: its events by province and commune, the renumberings it has received (a former
// commune code → today's), which re-file the events held under a former code and file a new event reported under one
// under today's, and a version per event raised at each change.
import { generateMarrouteData, type EventState, type EventType, type MarrouteData, type RoadEvent } from './data.ts';

/** A renumbering as MARROUTE receives it from the hub: a commune's code today and the codes it had. */
export interface TerritoryChange {
  /** The hub's delivery id: the same change twice is applied once. */
  id: string;
  code: string;
  formerCodes: string[];
  nameFr?: string;
}

export interface RenumberingResult {
  applied: number;
  /** Events moved from a former code to today's. */
  refiled: string[];
  /** Changes already applied (by id). */
  duplicates: number;
}

export interface EventFilter {
  province: string;
  commune?: string;
  type?: EventType;
  etat?: EventState;
}

/** The most events one query answers (a province holds a few dozen; the bound keeps a query's work bounded). */
export const maxEventsPerQuery = 1000;

export class MarrouteStore {
  readonly data: MarrouteData;
  private readonly byId = new Map<string, RoadEvent>();
  /** Former code → today's, as received from the hub. */
  private readonly renumbered = new Map<string, string>();
  private readonly appliedChanges = new Set<string>();
  private nextNumber: number;

  constructor(options: { seed?: number; count?: number } = {}) {
    this.data = generateMarrouteData(options);
    for (const e of this.data.events) this.byId.set(e.id, e);
    this.nextNumber = this.data.events.length + 1;
  }

  event(id: string): RoadEvent | undefined {
    return this.byId.get(id);
  }

  /** Events of a province (by its code or their commune's), optionally of one commune (as filed, after renumberings). */
  events(filter: EventFilter): RoadEvent[] {
    const out: RoadEvent[] = [];
    for (const e of this.data.events) {
      if (e.codeProvince !== filter.province && !(e.codeCommune ?? '').startsWith(`${filter.province}.`)) continue;
      if (filter.commune !== undefined && e.codeCommune !== (this.renumbered.get(filter.commune) ?? filter.commune)) continue;
      if (filter.type !== undefined && e.type !== filter.type) continue;
      if (filter.etat !== undefined && e.etat !== filter.etat) continue;
      out.push(e);
      if (out.length === maxEventsPerQuery) break;
    }
    return out;
  }

  /** The renumberings received, former code → today's. */
  renumberings(): Array<{ former: string; code: string }> {
    return [...this.renumbered].map(([former, code]) => ({ former, code }));
  }

  /**
   * Applies renumberings: each former code now means today's, and the events filed under it move (their version raised,
   * the code they were reported under kept). A change seen before (its id) is skipped.
   */
  applyTerritoryChanges(changes: readonly TerritoryChange[]): RenumberingResult {
    const result: RenumberingResult = { applied: 0, refiled: [], duplicates: 0 };
    for (const change of changes) {
      if (this.appliedChanges.has(change.id)) {
        result.duplicates++;
        continue;
      }
      for (const former of change.formerCodes) this.renumbered.set(former, change.code);
      // A code that was itself a former code of another renumbering chains on: the older ones follow to today's.
      for (const [former, code] of this.renumbered) if (change.formerCodes.includes(code)) this.renumbered.set(former, change.code);
      for (const e of this.data.events) {
        if (e.codeCommune === null || !change.formerCodes.includes(e.codeCommune)) continue;
        e.codeCommuneDeclare ??= e.codeCommune;
        e.codeCommune = change.code;
        e.version++;
        result.refiled.push(e.id);
      }
      this.appliedChanges.add(change.id);
      result.applied++;
    }
    return result;
  }

  /** A new event as a DPETL reports it; a former commune code it knows is filed under today's. */
  report(input: Omit<RoadEvent, 'id' | 'version' | 'codeCommuneDeclare'>): RoadEvent {
    const current = input.codeCommune === null ? undefined : this.renumbered.get(input.codeCommune);
    const e: RoadEvent = {
      ...input,
      id: `MR-26-${String(this.nextNumber++).padStart(6, '0')}`,
      version: 1,
      ...(current !== undefined ? { codeCommune: current, codeCommuneDeclare: input.codeCommune as string } : {}),
    };
    this.data.events.push(e);
    this.byId.set(e.id, e);
    return e;
  }

  /** An event's state changed (a road reopened, closed again: the flip-flops real closures make). */
  setState(id: string, etat: EventState): RoadEvent | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    if (e.etat !== etat) {
      e.etat = etat;
      e.version++;
    }
    return e;
  }
}
