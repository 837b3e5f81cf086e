// The REST face of the infractions system through the exchange (contracts/MA.GOV.METLE.infractions/tickets): each
// operation calls the SOAP service and answers JSON, which the hub then minimises to the convention's fields. Bad
// SOAP never becomes a hub 500: a timeout is provider-timeout (504), a fault or an unreachable system
// provider-unavailable (502), anything unreadable provider-response-invalid (502); a ticket that cannot be read makes
// the whole answer invalid.
import { parseCin, parsePlate } from '../../referentials/identifiers/index.ts';
import { adapterProblem, type AdapterBinding, type ProviderResponse } from '../../src/exchange/bindings.ts';
import { operationBinding } from '../../src/exchange/operation-binding.ts';
import { roadsideOperations } from './roadside-binding.ts';
import { SoapError } from './soap.ts';
import { ticketsByCin, ticketsByPlate, type TicketView } from './tickets.ts';

export const infractionsProvider = 'MA/GOV/METLE/infractions';
export const infractionsService = `${infractionsProvider}/tickets`;
/** The name of the adapter binding (service_bindings.adapter). */
export const infractionsBindingName = 'infractions-soap';

export interface InfractionsBindingConfig {
  /** The SOAP endpoint (the simulator's url). */
  endpoint: string;
  /** Below the service binding's timeout, so that the answer is this binding's provider-timeout. */
  timeoutMs: number;
}

function json(value: unknown): ProviderResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)), json: value };
}

/** Each failure of the SOAP call as the protocol's provider problem. */
export function soapProblem(err: unknown): ProviderResponse {
  if (!(err instanceof SoapError)) throw err;
  switch (err.failure) {
    case 'timeout':
      return adapterProblem('provider-timeout', 'the infractions system did not answer in time');
    case 'fault':
      return adapterProblem('provider-unavailable', `the infractions system answered a fault (${err.faultCode ?? 'Server'})`);
    case 'unreachable':
      return adapterProblem('provider-unavailable', 'the infractions system is unreachable');
    default:
      return adapterProblem('provider-response-invalid', `the infractions system's answer is unusable (${err.failure})`);
  }
}

/** The JSON of a ticket: what the system holds, but its internal change sequence. */
function ticketJson(t: TicketView): Record<string, unknown> {
  const { sequence: _sequence, ...rest } = t;
  return rest;
}

export function infractionsBinding(config: InfractionsBindingConfig): AdapterBinding {
  const options = { timeoutMs: config.timeoutMs };
  return operationBinding('infractions tickets', {
    async getInfractionsByPlate(params) {
      const plate = parsePlate(params.plate ?? '');
      if (!plate.ok) return adapterProblem('request-invalid', 'not a plate', [{ location: 'path.plate', message: 'not a plate (12345-A-6 or 12345-أ-6)' }]);
      try {
        const tickets = await ticketsByPlate(config.endpoint, params.plate ?? '', options);
        return json({ plateKey: plate.value.key, infractions: tickets.map(ticketJson) });
      } catch (err) {
        return soapProblem(err);
      }
    },
    async getInfractionsByCin(params) {
      const cin = parseCin(params.cin ?? '');
      if (!cin.ok) return adapterProblem('request-invalid', 'not a CIN', [{ location: 'path.cin', message: 'not a CIN (AB123456)' }]);
      try {
        const answer = await ticketsByCin(config.endpoint, cin.value.value, options);
        return json({ cin: cin.value.value, ...(answer.licencePoints !== undefined ? { licencePoints: answer.licencePoints } : {}), infractions: answer.tickets.map(ticketJson) });
      } catch (err) {
        return soapProblem(err);
      }
    },
    // The road agents' app (issue 15 item 2): a batch recorded offline, a plate checked at the roadside.
    ...roadsideOperations(config, soapProblem),
  });
}
