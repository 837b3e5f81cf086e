// A regional (or provincial) office of the ministry: who it is to the hub, which territory its records are in, and the
// source system its corrections are contributed under.
import { referentialModules } from '../../referentials/index.ts';
import type { ReferentialModule } from '../../src/golden/module.ts';


/** The source system every regional office contributes under; it has its rank in each referential's trust order. */
export const regionalSourceSystem = 'regional-offices';

export interface RegionalOffice {
  /** `dr-01`: the office's id, the prefix of its source ids (`dr-01/P-000123`), so that two offices' ids never meet. */
  id: string;
  /** The territory code it answers for (a region `01`, or a province `01.511`): a prefix on commune codes (src/sync/scope.ts). */
  territory: string;
  /** The source system its records are contributed under (one for every office: a rank in the trust orders). */
  sourceSystem: string;
}

const territoryCode = /^\d{2}(?:\.\d{3})?$/;

/** The office of a region (`01`) or province (`01.511`): `dr-01`, `dp-01.511`. */
export function regionalOffice(territory: string): RegionalOffice {
  if (!territoryCode.test(territory)) throw new Error(`${territory}: a regional office answers for a region (01) or a province (01.511)`);
  const id = territory.includes('.') ? `dp-${territory}` : `dr-${territory}`;
  return { id, territory, sourceSystem: regionalSourceSystem };
}

/** The hub's source id of an office's local record id. */
export const officeSourceId = (office: RegionalOffice, localId: string): string => `${office.id}/${localId}`;

/** The referentials an office corrects (persons, companies, vehicles), by name: the hub's modules, as listed in referentials/index.ts. */
export function officeReferential(name: string): ReferentialModule | undefined {
  return referentialModules.find((m) => m.name === name);
}
