// Service `complaints` of MA/GOV/METLE/reclamations served through the exchange (contracts/MA.GOV.METLE.reclamations/
// complaints/openapi.yaml): getComplaintStatistics forwards to the platform's GET /statistics with its integration
// token, its filters checked first (a bad one is a 400 naming it, before any call). A platform that does not answer,
// or answers 5xx, is ProviderUnavailableError (502); an answer that is not JSON is provider-response-invalid (502).
import { operationBinding } from '../../src/exchange/operation-binding.ts';
import { adapterProblem, ProviderUnavailableError, type AdapterBinding, type ProviderResponse } from '../../src/exchange/bindings.ts';
import { categoryCodes, statusCodes } from './data.ts';
import { reclamationsSubsystem } from './adapter.ts';

export const complaintsService = `${reclamationsSubsystem}/complaints`;
export const ministrySubsystem = 'MA/GOV/METLE/pilotage';
export const ministryPurpose = 'complaints-steering';

const communePattern = /^[0-9]{2}\.[0-9]{3}\.[0-9]{2}\.[0-9]{1,2}$/;

async function forward(target: { baseUrl: string; token: string }, path: string, signal: AbortSignal): Promise<ProviderResponse> {
  let answer: Response;
  try {
    answer = await fetch(new URL(path, target.baseUrl), { headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' }, signal, redirect: 'error' });
  } catch (err) {
    throw new ProviderUnavailableError(`the complaints platform did not answer: ${(err as Error).name}`);
  }
  if (answer.status >= 500) throw new ProviderUnavailableError(`the complaints platform answered ${answer.status}`);
  const body = Buffer.from(await answer.arrayBuffer());
  if (answer.status >= 400) return adapterProblem('request-invalid', `the complaints platform refused the request (${answer.status})`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return adapterProblem('provider-response-invalid', 'the complaints platform answered something that is not JSON');
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body, json };
}

/** The binding, for a hub to load under an adapter name and bind the service to. */
export function complaintsBinding(target: { baseUrl: string; token: string }): AdapterBinding {
  // The binding's handlers do not receive the abort signal; a bounded time keeps a stuck platform from holding a request.
  const signal = () => AbortSignal.timeout(10_000);
  return operationBinding('complaints', {
    getComplaintStatistics: (_path, query) => {
      const params = new URLSearchParams();
      const commune = query.get('commune');
      const category = query.get('category');
      const status = query.get('status');
      if (commune !== null && !communePattern.test(commune)) return Promise.resolve(adapterProblem('request-invalid', 'commune is a code such as 01.511.01.01', [{ location: 'query.commune', message: 'a commune code such as 01.511.01.01' }]));
      if (category !== null && !(categoryCodes as string[]).includes(category)) return Promise.resolve(adapterProblem('request-invalid', `category is one of ${categoryCodes.join(', ')}`, [{ location: 'query.category', message: 'unknown category' }]));
      if (status !== null && !(statusCodes as string[]).includes(status)) return Promise.resolve(adapterProblem('request-invalid', `status is one of ${statusCodes.join(', ')}`, [{ location: 'query.status', message: 'unknown status' }]));
      if (commune !== null) params.set('commune', commune);
      if (category !== null) params.set('category', category);
      if (status !== null) params.set('status', status);
      return forward(target, `/statistics?${params.toString()}`, signal());
    },
  });
}
