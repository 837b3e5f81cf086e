// A bounded memo for pure functions of a string (name folds, keys, skeletons): names repeat, a few thousand words
// making up millions of records, and each fold is a chain of regular expressions.

/** compute(key), remembered in `cache`; the cache is emptied when it holds `limit` entries (no eviction bookkeeping). */
export function remember(cache: Map<string, string>, key: string, compute: (key: string) => string, limit = 100_000): string {
  const known = cache.get(key);
  if (known !== undefined) return known;
  const value = compute(key);
  if (cache.size >= limit) cache.clear();
  cache.set(key, value);
  return value;
}
