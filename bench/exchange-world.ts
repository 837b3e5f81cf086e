// The bench world shared by bench/exchange.ts and its server children: who calls, for what, on which path, and the ready marker.
import { join } from 'node:path';
import { btpServiceId } from '../adapters/demo/world.ts';

/** The line the parent (bench/exchange.ts) waits for on stdout: `${readyMarker} <port>`; keep both in step. */
export const readyMarker = 'TABADOL_BENCH_READY';

/** The bench world, shared with the parent: who calls, for what, on which path. */
export const benchWorld = {
  consumer: 'MA/GOV/BENCH/loadgen',
  consumerName: 'Banc de mesure: générateur de charge (aucune donnée réelle)',
  provider: 'MA/GOV/METLE/qualification-btp',
  service: 'classification',
  serviceId: btpServiceId,
  purpose: 'bench-load',
  operationId: 'getFixed',
  /** The provider's path for getFixed, and the same call through the proxy and the hub. */
  providerPath: '/bench/fixed',
  exchangePath: `/x/v1/${btpServiceId}/bench/fixed`,
  /** Every field of the fixed answer but `description` and `qualifications[].qualification.libelle`: minimisation has work to do. */
  fields: [
    'service',
    'ice',
    'raisonSociale',
    'qualifications.secteur',
    'qualifications.classe',
    'qualifications.qualification.code',
    'qualifications.validUntil',
    'decisionDate',
    'statut',
    'padding',
  ],
  /** Written by the hub child: the consumer's private JWK, for the parent to pre-sign with. */
  consumerKeyFile: (dataDir: string): string => join(dataDir, 'bench', 'loadgen.private.jwk'),
} as const;
