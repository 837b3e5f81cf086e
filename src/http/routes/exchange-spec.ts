// The exchange protocol in the hub's own OpenAPI document: /x/v1/... and /meta/v1/... as a caller meets them (the
// request headers, the signed answer's headers, every refusal with its status). Their handlers are one pipeline for any
// service (routes/exchange.ts), so they are described here rather than generated from a route; each provider service's
// own contract stays in contracts/ and is served by GET /meta/v1/openapi/{service}.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { problemCodes, problemTypePrefix, type ProblemCode } from '../problem.ts';

type Code = ProblemCode;

const protocolRefs = 'docs/protocol.md';

/** Every problem type the hub answers, with its status: one list for the exchange and the admin API alike. */
const problemType = {
  type: 'string' as const,
  description: `The \`type\` of a problem answer: ${problemTypePrefix}<code>. The status of each is given as x-status.`,
  oneOf: Object.entries(problemCodes).map(([code, { status, title }]) => ({ const: problemTypePrefix + code, title, 'x-status': status })),
};

const requestHeaders = [
  { name: 'Tabadol-Client', in: 'header' as const, required: true, description: 'Your subsystem id (INSTANCE/CLASS/CODE/SUBSYSTEM); equals the signature\'s `iss`.', schema: { type: 'string' as const }, example: 'MA/GOV/MEF/marches-publics' },
  { name: 'Tabadol-Purpose', in: 'header' as const, required: true, description: 'A purpose code of your convention; equals the signature\'s `pur`.', schema: { type: 'string' as const }, example: 'public-procurement-eligibility' },
];

const answerHeaders = {
  'Tabadol-Signature': { description: `The hub's compact JWS over the answer (typ tabadol-response+jwt: iss, aud, jti, rqh, sts, bdh, iat); verify it with /.well-known/jwks.json (${protocolRefs} §4).`, schema: { type: 'string' as const } },
  'Tabadol-Request-Id': { description: "Your request's jti (a fresh UUID when there was none).", schema: { type: 'string' as const } },
  'Tabadol-Log-Id': { description: 'The message-log sequence number of this exchange.', schema: { type: 'string' as const } },
};

/** One response per status, naming the codes it carries; signed like any answer. */
// A Problem whose `type` is one of ProblemType's (Problem itself comes from the route definitions, problem.ts).
const signedProblem = { allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object' as const, properties: { type: { $ref: '#/components/schemas/ProblemType' } } }] };

function refusals(codes: readonly Code[]): Record<string, { description: string; headers: typeof answerHeaders; content: { 'application/problem+json': { schema: typeof signedProblem } } }> {
  const byStatus = new Map<number, Code[]>();
  for (const code of codes) byStatus.set(problemCodes[code].status, [...(byStatus.get(problemCodes[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus.entries()].sort(([a], [b]) => a - b).map(([status, list]) => [
      String(status),
      { description: `Refused, signed and logged: ${list.map((code) => `\`${code}\``).join(', ')}.`, headers: answerHeaders, content: { 'application/problem+json': { schema: signedProblem } } },
    ]),
  );
}

// What any signed call can be refused with, whatever it asks (checks 1 to 8 of docs/protocol.md §3, and the hub itself).
const signedCallCodes: Code[] = ['signature-missing', 'signature-malformed', 'client-unknown', 'key-unknown', 'algorithm-refused', 'signature-invalid', 'signature-mismatch', 'clock-skew', 'replayed-request', 'body-digest-mismatch', 'payload-too-large', 'database-unavailable', 'queue-unavailable', 'internal'];
const exchangeCodes: Code[] = [...signedCallCodes, 'no-convention', 'operation-not-allowed', 'purpose-not-allowed', 'convention-not-valid', 'quota-exceeded', 'request-invalid', 'provider-timeout', 'provider-unavailable', 'provider-response-invalid', 'not-found'];
const metaCodes: Code[] = [...signedCallCodes, 'method-not-allowed', 'not-found'];

const idPart = (name: string, description: string, example: string) => ({ name, in: 'path' as const, required: true, description, schema: { type: 'string' as const }, example });

// OpenAPI path parameters cannot hold a `/`, and a service's path has any number of segments. The provider's id is
// written as its four parts (each one segment), the service as one, and `{path}` stands for the rest of the path as
// the service's own contract defines it, slashes included: a generated client must send it unencoded. Documenting
// each provider service's paths here instead would copy every contract into this one; they stay in contracts/.
const exchangePath = '/x/v1/{instance}/{memberClass}/{memberCode}/{subsystem}/{service}/{path}';
const exchangeParameters = [
  idPart('instance', "The provider's instance, first part of its subsystem id.", 'MA'),
  idPart('memberClass', "The provider's member class.", 'GOV'),
  idPart('memberCode', "The provider's member code.", 'METLE'),
  idPart('subsystem', "The provider's subsystem.", 'qualification-btp'),
  idPart('service', 'The service code, under which a convention names it.', 'classification'),
  { ...idPart('path', "The rest of the path as the service's contract defines it, with its slashes (sent unencoded), then the query.", 'companies/002145873000014/classification'), schema: { type: 'string' as const } },
  ...requestHeaders,
];

const exchangeDescription = `A call to a provider's service through the hub, under a convention between you and the provider (${protocolRefs} §2). The hub checks the signature and the convention, forwards the request, cuts a 2xx JSON answer down to the convention's fields, and answers signed and logged. The operations and schemas of each service are its own contract: fetch it with GET /meta/v1/openapi/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{SERVICE} (the same files as the repository's contracts/). A provider's own 4xx and 5xx answers pass through, signed.`;

const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function registerExchangeSpec(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent('schemas', 'ProblemType', problemType);
  registry.registerComponent('securitySchemes', 'tabadolSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'Tabadol-Signature',
    description: `A compact JWS by your subsystem's key over the request (typ tabadol-request+jwt; claims iss, aud, htm, htu, pur, iat, jti, bdh), ES256 or EdDSA: ${protocolRefs} §2.`,
  });
  for (const method of methods) {
    registry.registerPath({
      method,
      path: exchangePath,
      operationId: `exchange${method[0]?.toUpperCase()}${method.slice(1)}`,
      tags: ['exchange'],
      summary: `${method.toUpperCase()} on a provider's service, signed, under a convention`,
      description: exchangeDescription,
      security: [{ tabadolSignature: [] }],
      ...(method === 'get' || method === 'delete' ? {} : { request: { body: { description: "As the service's contract defines it.", content: { 'application/json': { schema: z.object({}).passthrough() } } } } }),
      parameters: exchangeParameters,
      responses: {
        200: { description: "The provider's answer, minimised to the convention's fields, signed and logged (other 2xx as the service defines).", headers: answerHeaders, content: { 'application/json': { schema: { type: 'object' } } } },
        ...refusals(exchangeCodes),
      },
    } as Parameters<typeof registry.registerPath>[0]);
  }
  const meta = (path: string, operationId: string, summary: string, extra: object[] = []) =>
    registry.registerPath({
      method: 'get',
      path,
      operationId,
      tags: ['metaservices'],
      summary,
      description: `A metaservice (${protocolRefs} §6): signed like an exchange, no convention needed; checks 1 to 8 apply and the call is logged with service \`meta\`.`,
      security: [{ tabadolSignature: [] }],
      parameters: [...extra, { ...requestHeaders[0], description: 'Your subsystem id.' }, { ...requestHeaders[1], required: false, description: 'Not checked for metaservices.' }],
      responses: { 200: { description: 'The answer, signed and logged.', headers: answerHeaders, content: { 'application/json': { schema: { type: 'object' } } } }, ...refusals(metaCodes) },
    } as Parameters<typeof registry.registerPath>[0]);
  meta('/meta/v1/clients', 'metaClients', 'Registered members and subsystems');
  meta('/meta/v1/services', 'metaServices', 'Services under active conventions, each with the digest of its OpenAPI document');
  meta('/meta/v1/allowed', 'metaAllowed', 'What the caller may use: service, convention, operations and fields, purposes, validity, quota');
  meta(
    '/meta/v1/openapi/{instance}/{memberClass}/{memberCode}/{subsystem}/{service}',
    'metaServiceOpenApi',
    "A service's OpenAPI document, exactly the bytes whose digest the conventions sign (also in Tabadol-OpenAPI-Digest)",
    exchangeParameters.slice(0, 5),
  );
}
