// Service `permits` of MA/GOV/METLE/dpm-occupations served through the exchange (contracts/MA.GOV.METLE.dpm-occupations/
// permits/openapi.yaml): each operation checks its parameters (a 400 naming the field, before the system is called),
// then asks the occupation register with its integration token. A register that does not answer, answers 5xx or
// answers what is not JSON is ProviderUnavailableError (the hub's 502), one too slow the hub's 504: never a 500.
import { operationBinding } from '../../src/exchange/operation-binding.ts';
import { adapterProblem, ProviderUnavailableError, type AdapterBinding, type ProviderResponse } from '../../src/exchange/bindings.ts';
import { permitStates } from './data.ts';
import { dpmSubsystem } from './adapter.ts';
import { communeCode, permitNumber } from './simulator.ts';

export const dpmService = `${dpmSubsystem}/permits`;
/** The adapter-binding name the hub loads it under (service_bindings.adapter). */
export const dpmBindingName = 'dpm-occupations-permits';

const icePattern = /^[0-9]{15}$/;
const cinPattern = /^[A-Z]{1,2}[0-9]{1,6}$/;

async function forward(target: { baseUrl: string; token: string }, path: string, signal: AbortSignal): Promise<ProviderResponse> {
  let answer: Response;
  try {
    answer = await fetch(new URL(path, target.baseUrl), { headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' }, signal, redirect: 'error' });
  } catch (err) {
    if (signal.aborted) throw new ProviderUnavailableError('the occupation register did not answer in time');
    throw new ProviderUnavailableError(`the occupation register did not answer: ${(err as Error).name}`);
  }
  if (answer.status >= 500) throw new ProviderUnavailableError(`the occupation register answered ${answer.status}`);
  const body = Buffer.from(await answer.arrayBuffer());
  if (answer.status === 404) return adapterProblem('not-found', path.startsWith('/permits/') ? 'no such permit' : 'no commune has this code, today or in 2014');
  if (answer.status >= 400) return adapterProblem('request-invalid', `the occupation register refused the request (${answer.status})`);
  try {
    JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProviderUnavailableError('the occupation register answered a body that is not JSON');
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}

const invalid = (location: string, message: string): ProviderResponse => adapterProblem('request-invalid', `${location}: ${message}`, [{ location, message }]);

/** The page and state query, checked; a refusal naming the field, or the query to pass on. */
function pageQuery(query: URLSearchParams): string | ProviderResponse {
  const out = new URLSearchParams();
  const state = query.get('state');
  if (state !== null) {
    if (!(permitStates as readonly string[]).includes(state)) return invalid('query.state', `one of ${permitStates.join(', ')}`);
    out.set('state', state);
  }
  const limit = query.get('limit');
  if (limit !== null) {
    if (!/^(100|[1-9][0-9]?)$/.test(limit)) return invalid('query.limit', 'an integer from 1 to 100');
    out.set('limit', limit);
  }
  const offset = query.get('offset');
  if (offset !== null) {
    if (!/^(0|[1-9][0-9]{0,4})$/.test(offset)) return invalid('query.offset', 'an integer from 0 to 99999');
    out.set('offset', offset);
  }
  return out.toString();
}

/** The binding, for a hub to load under dpmBindingName and bind the service to. */
export function dpmBinding(target: { baseUrl: string; token: string }, options: { timeoutMs?: number } = {}): AdapterBinding {
  // The binding's handlers do not receive the abort signal; a bounded time keeps a stuck register from holding a request.
  const signal = () => AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const list = (filter: 'holder' | 'commune', value: string, query: URLSearchParams): Promise<ProviderResponse> => {
    const page = pageQuery(query);
    if (typeof page !== 'string') return Promise.resolve(page);
    return forward(target, `/permits?${filter}=${encodeURIComponent(value)}${page ? `&${page}` : ''}`, signal());
  };
  return operationBinding('permits', {
    listPermitsByCompany: (path, query) => (icePattern.test(path.ice ?? '') ? list('holder', path.ice ?? '', query) : Promise.resolve(invalid('path.ice', 'an ICE is 15 digits'))),
    listPermitsByPerson: (path, query) => (cinPattern.test(path.cin ?? '') ? list('holder', path.cin ?? '', query) : Promise.resolve(invalid('path.cin', 'a CIN is 1 or 2 capital letters, then up to 6 digits'))),
    listPermitsByCommune: (path, query) => (communeCode.test(path.commune ?? '') ? list('commune', path.commune ?? '', query) : Promise.resolve(invalid('path.commune', 'an HCP commune code such as 06.141.01.0 (2014 codes are found too)'))),
    getPermit: (path) => (permitNumber.test(path.number ?? '') ? forward(target, `/permits/${path.number ?? ''}`, signal()) : Promise.resolve(invalid('path.number', 'a permit number is AOT-DPM-YYYY-NNNN'))),
  });
}
