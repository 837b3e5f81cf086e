// The bench world shared by bench/referentials.ts and its hub child (bench/referentials-server.ts): who calls, for what, on which path, and the ready marker.
import { join } from 'node:path';
import { hubSubsystems } from '../src/hub/bootstrap.ts';

/** The line the parent waits for on stdout: `${referentialsReadyMarker} <port>`. */
export const referentialsReadyMarker = 'TABADOL_BENCH_REFERENTIALS_READY';

export const referentialsBenchWorld = {
  consumer: 'MA/GOV/BENCH/referentials-loadgen',
  consumerName: 'Banc de mesure des référentiels: générateur de charge (données générées, aucune donnée réelle)',
  service: 'persons',
  purpose: 'bench-load',
  /** The persons service through the exchange pipeline. */
  servicePath: (hubId: string): string => `/x/v1/${hubSubsystems(hubId).referentials}/persons`,
  /** Written by the hub child: the consumer's private JWK, for the parent to pre-sign with. */
  consumerKeyFile: (dataDir: string): string => join(dataDir, 'bench', 'referentials-loadgen.private.jwk'),
  /** Written by the hub child: { hubId }. */
  hubFile: (dataDir: string): string => join(dataDir, 'bench', 'hub.json'),
} as const;
