// Times searchGoldensAfter (the new keyset search) on the bench's filled schema: first page, then 20 pages deep.
import { openDatabase } from '/work/wt-console17/src/storage/index.ts';
import { searchForm, searchGoldensAfter, type SearchAfter } from '/work/wt-console17/src/golden/search.ts';
const schema = process.argv[2] ?? '';
const db = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/test', dataDir: '', schema, migrate: false } as never);
const { rows } = await db.query<{ latin: string; arabic: string }>(`SELECT match_fields->>'nameLatin' AS latin, match_fields->>'nameArabic' AS arabic FROM ref_golden WHERE referential='persons' AND status='active' AND version > 1 AND match_fields->>'nameArabic' IS NOT NULL LIMIT 1`);
const p = rows[0]!;
for (const [label, q] of [['Latin', p.latin], ['Arabic', p.arabic], ['first word (deep)', p.latin.split(' ')[0]!]] as const) {
  let after: SearchAfter | undefined;
  const times: number[] = [];
  for (let page = 0; page < 21; page++) {
    const t0 = performance.now();
    const r = await searchGoldensAfter(db, 'persons', { form: searchForm(q), after, limit: 21 });
    times.push(performance.now() - t0);
    const last = r.slice(0, 20).at(-1);
    if (r.length <= 20 || !last) break;
    after = { blockingText: last.blockingText, id: last.id };
  }
  console.log(label, JSON.stringify(q), 'pages', times.length, 'first ms', times[0]!.toFixed(1), 'last ms', times.at(-1)!.toFixed(1), 'max ms', Math.max(...times).toFixed(1));
}
await db.close();
