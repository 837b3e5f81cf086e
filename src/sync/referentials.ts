// The referentials a subscription may follow: those whose golden records feed the change feed. Read from one place so
// that the day the table of modules becomes per hub, the admin API and the CLI change here and nowhere else.
import { referentials } from '../golden/module.ts';

export function subscribableReferentials(): string[] {
  return referentials().map((m) => m.name);
}
