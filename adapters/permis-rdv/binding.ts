// Service `appointments` of MA/GOV/METLE/permis-rdv served through the exchange (contracts/MA.GOV.METLE.permis-rdv/
// appointments/openapi.yaml): each operation forwards to the appointment system's API with its integration token.
// A system that does not answer is ProviderUnavailableError (the hub answers 502/503, never 500).
import { operationBinding } from '../../src/exchange/operation-binding.ts';
import { adapterProblem, ProviderUnavailableError, type AdapterBinding, type ProviderResponse } from '../../src/exchange/bindings.ts';

export const permisSubsystem = 'MA/GOV/METLE/permis-rdv';
export const permisService = `${permisSubsystem}/appointments`;

async function forward(target: { baseUrl: string; token: string }, path: string, signal: AbortSignal): Promise<ProviderResponse> {
  let answer: Response;
  try {
    answer = await fetch(new URL(path, target.baseUrl), { headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' }, signal, redirect: 'error' });
  } catch (err) {
    throw new ProviderUnavailableError(`the appointment system did not answer: ${(err as Error).message}`);
  }
  if (answer.status >= 500) throw new ProviderUnavailableError(`the appointment system answered ${answer.status}`);
  const body = Buffer.from(await answer.arrayBuffer());
  if (answer.status === 404) return adapterProblem('not-found', 'no such exam centre');
  if (answer.status >= 400) return adapterProblem('request-invalid', `the appointment system refused the request (${answer.status})`);
  return { status: answer.status, headers: { 'content-type': 'application/json' }, body };
}

/** The binding, for a hub to load under an adapter name and bind the service to. */
export function permisBinding(target: { baseUrl: string; token: string }): AdapterBinding {
  // The binding's handlers do not receive the abort signal; a bounded time keeps a stuck system from holding a request.
  const signal = () => AbortSignal.timeout(10_000);
  return operationBinding('appointments', {
    getCentreSlots: (path, query) => {
      const date = query.get('date') ?? '';
      if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(date)) return Promise.resolve(adapterProblem('request-invalid', 'date must be YYYY-MM-DD', [{ location: 'query.date', message: 'YYYY-MM-DD' }]));
      return forward(target, `/centres/${encodeURIComponent(path.centre ?? '')}/slots?date=${date}`, signal());
    },
    getAppointmentStatistics: (_path, query) => {
      const params = new URLSearchParams();
      const year = query.get('year');
      const centre = query.get('centre');
      if (year !== null) params.set('year', year);
      if (centre !== null) params.set('centre', centre);
      return forward(target, `/statistics?${params.toString()}`, signal());
    },
  });
}
