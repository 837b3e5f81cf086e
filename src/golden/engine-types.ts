// The golden-record engine's public shapes and typed refusals, shared by contributions, reads and stewardship.
import type { FieldProblem, NaturalKey } from './module.ts';

export interface SourceRef {
  system: string;
  id: string;
}

export interface AttributeValue {
  value: unknown;
  source: SourceRef;
  /** ISO instant the winning source record was received. */
  at: string;
}

export type GoldenAttributes = Record<string, AttributeValue>;

export type GoldenStatus = 'active' | 'merged' | 'retired';

export interface GoldenRecord {
  id: string;
  referential: string;
  version: number;
  status: GoldenStatus;
  /** The golden id this one was merged into (one hop). */
  mergedInto: string | null;
  /** For a merged id: the active record at the end of the merge chain (the one to use). */
  survivorId: string | null;
  attributes: GoldenAttributes;
  createdAt: Date;
  updatedAt: Date;
}

export type ContributionDecision = 'created' | 'linked-identifier' | 'linked-score' | 'review' | 'updated' | 'unchanged';

export interface ContributionResult {
  goldenId: string;
  decision: ContributionDecision;
  version: number;
  warnings: string[];
  /** The review item opened by this contribution, when decision is 'review'. */
  reviewId?: string;
}

export interface ContributionInput {
  sourceSystem: string;
  sourceId: string;
  attributes: unknown;
  receivedAt?: Date;
}

export type ResolveItem = { goldenId: string } | { key: NaturalKey } | { source: SourceRef };
export type Resolved = { found: true; golden: GoldenRecord } | { found: false };

/** The contribution's attributes are invalid: nothing was written. */
export class ContributionRefusedError extends Error {
  override name = 'ContributionRefusedError';
  constructor(readonly problems: FieldProblem[]) {
    super(`contribution refused: ${problems.map((p) => `${p.location}: ${p.message}`).join('; ')}`);
  }
}

/** A steward operation that cannot apply as asked (unknown id, wrong state, changed since): a 4xx, not a 500. */
export class StewardshipError extends Error {
  override name = 'StewardshipError';
  constructor(
    readonly code: 'not-found' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}
