// Who an admin change is attributed to in admin_audit: `cli:<os user>` for the command line, `operator:<id>` for the admin API.
import { userInfo } from 'node:os';
import type { Operator } from '../identity/operators.ts';

export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // A container user without a passwd entry has no name: the uid still says who it was.
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

export function operatorActor(operator: Pick<Operator, 'id'>): string {
  return `operator:${operator.id}`;
}
