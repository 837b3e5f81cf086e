// A subscription's territory scope: which golden records fall in a region, province or commune.

/**
 * The commune a record is in: its `commune` attribute (companies, road events…), else its `addressCommune` (persons:
 * where they live, not where they were born), else an owner's (vehicles). Commune codes are hierarchical
 * (region.province.commune.sub), so a scope is a prefix on code segments.
 */
export function communeOf(attributes: unknown): string | undefined {
  if (typeof attributes !== 'object' || attributes === null) return undefined;
  const a = attributes as Record<string, unknown>;
  for (const value of [a.commune, a.addressCommune, (a.owner as Record<string, unknown> | undefined)?.commune]) {
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** Whether a commune code lies within a scope code: equal, or below it (`01.051` holds `01.051.11.01`, not `01.0511…`). */
export function inScope(commune: string | undefined, scope: string | null): boolean {
  if (scope === null) return true;
  if (commune === undefined) return false;
  return commune === scope || commune.startsWith(`${scope}.`);
}
