// Every console page, in menu order, with the roles that may open it. The server enforces the same list (guard.ts):
// a page missing from an operator's menu answers 403 too.
import type { OperatorRole } from '../identity/operators.ts';

export interface ConsolePage {
  path: string;
  label: string;
  roles: readonly OperatorRole[];
}

const everyone: readonly OperatorRole[] = ['admin', 'steward', 'auditor'];

export const pages = {
  overview: { path: '/console', label: "Vue d'ensemble", roles: everyone },
  members: { path: '/console/members', label: 'Membres et clés', roles: ['admin', 'auditor'] },
  conventions: { path: '/console/conventions', label: 'Conventions', roles: ['admin', 'auditor'] },
  log: { path: '/console/log', label: 'Journal des échanges', roles: ['admin', 'auditor'] },
  transparency: { path: '/console/transparency', label: 'Transparence', roles: ['admin', 'auditor'] },
  referentials: { path: '/console/referentials', label: 'Référentiels', roles: ['admin', 'steward', 'auditor'] },
  review: { path: '/console/review', label: 'Revue des doublons', roles: ['admin', 'steward'] },
  sync: { path: '/console/sync', label: 'Synchronisation', roles: ['admin', 'auditor'] },
  statistics: { path: '/console/statistics', label: 'Statistiques', roles: everyone },
} as const satisfies Record<string, ConsolePage>;

export type PageName = keyof typeof pages;

export const roleLabels: Record<OperatorRole, string> = { admin: 'administrateur', steward: 'gestionnaire des référentiels', auditor: 'auditeur' };

export function mayOpen(role: OperatorRole, page: ConsolePage): boolean {
  return page.roles.includes(role);
}
