// The referential-wide advisory lock: shared by single contributions and steward decisions, exclusive for a bulk
// import (so that a chunk decides against golden records nothing else is changing meanwhile).
import type { Queryable } from '../storage/db.ts';

export async function lockReferential(tx: Queryable, referential: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.query(`SELECT ${fn}(hashtextextended($1, 0))`, [`ref:referential:${referential}`]);
}
