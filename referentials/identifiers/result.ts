// The result every identifier rule returns: a value (with warnings that never block) or one failure whose message
// says what is wrong in words an e-service can act on. The caller names the field (422 problem, one entry per field).

/** Accepted: the normalised value, plus warnings (doubts worth reporting, never a reason to refuse). */
export interface Accepted<T> {
  ok: true;
  value: T;
  warnings: string[];
}

/** Refused: a stable machine code (`ice.checksum`, `plate.prefecture`, …) and a human message. */
export interface Refused<C extends string = string> {
  ok: false;
  code: C;
  message: string;
}

export type IdentifierResult<T, C extends string = string> = Accepted<T> | Refused<C>;

export function accept<T>(value: T, warnings: string[] = []): Accepted<T> {
  return { ok: true, value, warnings };
}

export function refuse<C extends string>(code: C, message: string): Refused<C> {
  return { ok: false, code, message };
}
