// Where a demo system's simulator listens this start, for scripts beside the hub (`npm run demo:sync`): one file per
// system, DATA_DIR/demo/systems/<name>.json, readable by this user only. It names the token's own 0600 file and never
// holds the token itself, so that the address can be shown and copied without the secret.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SimulatorRecord {
  /** The simulator's base URL (an endpoint for a SOAP system). */
  url: string;
  /** The file holding its integration token (absent for a system without one). */
  tokenFile?: string;
}

export function simulatorRecordPath(demoDir: string, system: string): string {
  return join(demoDir, 'systems', `${system}.json`);
}

export function recordSimulator(demoDir: string, system: string, record: SimulatorRecord): void {
  mkdirSync(join(demoDir, 'systems'), { recursive: true, mode: 0o700 });
  writeFileSync(simulatorRecordPath(demoDir, system), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}
