// Identifiers of the exchange protocol: members (INSTANCE/CLASS/CODE), subsystems (one more part) and services (one more again).
const part = /^[A-Za-z0-9._-]{1,64}$/;

export type IdKind = 'member' | 'subsystem' | 'service';
const partsOf: Record<IdKind, number> = { member: 3, subsystem: 4, service: 5 };

export class InvalidIdError extends Error {
  override name = 'InvalidIdError';
}

/** Checks an id of the given kind; throws InvalidIdError naming what is wrong. */
export function parseId(value: string, kind: IdKind): string[] {
  const parts = value.split('/');
  if (parts.length !== partsOf[kind]) {
    throw new InvalidIdError(`${JSON.stringify(value)} is not a ${kind} id: expected ${partsOf[kind]} parts separated by '/' (e.g. ${examples[kind]})`);
  }
  const bad = parts.find((p) => !part.test(p));
  if (bad !== undefined) throw new InvalidIdError(`${JSON.stringify(value)}: part ${JSON.stringify(bad)} must match [A-Za-z0-9._-]{1,64}`);
  return parts;
}

export function isId(value: string, kind: IdKind): boolean {
  try {
    parseId(value, kind);
    return true;
  } catch {
    return false;
  }
}

const examples: Record<IdKind, string> = {
  member: 'MA/GOV/METLE',
  subsystem: 'MA/GOV/METLE/qualification-btp',
  service: 'MA/GOV/METLE/qualification-btp/classification',
};

/** A member or subsystem id, as members register (a member is 3 parts, a subsystem 4). */
export function memberKind(value: string): 'member' | 'subsystem' {
  if (isId(value, 'subsystem')) return 'subsystem';
  parseId(value, 'member');
  return 'member';
}

/** contracts/ folder name: '/' written as '.'. */
export function toFolderName(id: string): string {
  return id.replaceAll('/', '.');
}
