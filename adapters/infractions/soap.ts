// The client side of the infractions system's SOAP 1.1 service: builds request envelopes, reads answers bounded in
// size and time, refuses before parsing what regional-office/xml.ts's scan refuses (DOCTYPE, entities, processing
// instructions, too deep), then parses strictly with xml2js. Every way an answer can be wrong is one typed error, so
// that the binding and the adapter map it to a provider problem and never apply half of an answer.
import { parseStringPromise, processors } from 'xml2js';
import { scanXml, XmlRefusedError } from '../regional-office/xml.ts';
import { infractionsNamespace } from './simulator.ts';
import { AnswerTooLargeError, readBounded } from '../shared/bounded-body.ts';

/** Why a SOAP call gave no usable answer. */
export type SoapFailure =
  | 'fault' // a SOAP Fault
  | 'timeout' // no complete answer in time
  | 'unreachable' // connection refused or reset
  | 'not-soap' // not XML (an HTML error page with a 200, another content type)
  | 'charset' // a charset other than UTF-8 declared, or bytes that are not UTF-8
  | 'too-large' // more bytes than the limit
  | 'refused' // DOCTYPE, entity, processing instruction, too deep (before parsing)
  | 'malformed'; // not well-formed (a truncated envelope) or no Envelope/Body

export class SoapError extends Error {
  override name = 'SoapError';
  constructor(
    readonly failure: SoapFailure,
    message: string,
    /** A fault's faultcode (soap:Client, soap:Server), without its prefix. */
    readonly faultCode?: string,
  ) {
    super(message);
  }
}

export interface SoapCallOptions {
  timeoutMs: number;
  /** Bytes of answer read at most. */
  maxBytes?: number;
  /** Elements open at once at most. */
  maxDepth?: number;
  signal?: AbortSignal;
}

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A document/literal request envelope: the operation's element in the system's namespace, one child per parameter. */
export function buildEnvelope(operation: string, params: Readonly<Record<string, string | number>>): string {
  if (!/^[A-Z][A-Za-z]{1,63}$/.test(operation)) throw new RangeError(`not an operation name: ${operation}`);
  const children = Object.entries(params)
    .map(([k, v]) => {
      if (!/^[A-Z][A-Za-z]{1,63}$/.test(k)) throw new RangeError(`not a parameter name: ${k}`);
      return `<inf:${k}>${escapeXml(String(v))}</inf:${k}>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:inf="${infractionsNamespace}"><soap:Body><inf:${operation}>${children}</inf:${operation}></soap:Body></soap:Envelope>`;
}

/** An element as xml2js gives it without explicit arrays: text, an object of children, or an array when repeated. */
export type SoapValue = string | { [child: string]: SoapValue | SoapValue[] };

/** The answer's charset from its content type, when it names one. */
function declaredCharset(contentType: string): string | undefined {
  return /charset\s*=\s*"?([A-Za-z0-9._-]+)/i.exec(contentType)?.[1]?.toLowerCase();
}


/**
 * Parses an answer's bytes: UTF-8 only, the scan's refusals, then xml2js strictly; a Fault is a SoapError('fault').
 * Returns the Body's first element (the operation's response).
 */
export async function parseAnswer(bytes: Uint8Array, contentType: string, maxDepth = 16): Promise<{ name: string; value: SoapValue }> {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'text/xml' && mediaType !== 'application/soap+xml') throw new SoapError('not-soap', `the answer is ${mediaType || 'untyped'}, not a SOAP envelope`);
  const charset = declaredCharset(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw new SoapError('charset', `charset ${charset} refused: the answer must be UTF-8`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SoapError('charset', 'the answer is not valid UTF-8');
  }
  try {
    // Depth 2 under the Envelope is Header and Body: a handful at most.
    scanXml(text, { maxDepth, maxRecords: 4 });
  } catch (err) {
    if (!(err instanceof XmlRefusedError)) throw err;
    if (err.refusal === 'encoding') throw new SoapError('charset', err.reason);
    if (err.refusal === 'malformed') throw new SoapError('malformed', err.reason);
    throw new SoapError('refused', err.reason);
  }
  let doc: Record<string, unknown>;
  try {
    doc = (await parseStringPromise(text, { strict: true, explicitArray: false, ignoreAttrs: true, tagNameProcessors: [processors.stripPrefix] })) as Record<string, unknown>;
  } catch (err) {
    throw new SoapError('malformed', `not well-formed XML: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : 'unreadable'}`);
  }
  const envelope = doc?.Envelope;
  const body = envelope && typeof envelope === 'object' ? (envelope as Record<string, unknown>).Body : undefined;
  if (!body || typeof body !== 'object') throw new SoapError('malformed', 'no soap:Envelope/soap:Body');
  const fault = (body as Record<string, unknown>).Fault;
  if (fault && typeof fault === 'object') {
    const f = fault as Record<string, unknown>;
    const code = typeof f.faultcode === 'string' ? (f.faultcode.split(':').at(-1) ?? f.faultcode) : 'Server';
    const reason = typeof f.faultstring === 'string' ? f.faultstring.slice(0, 300) : 'no faultstring';
    throw new SoapError('fault', `SOAP Fault ${code}: ${reason}`, code);
  }
  const name = Object.keys(body)[0];
  if (name === undefined) throw new SoapError('malformed', 'an empty soap:Body');
  return { name, value: (body as Record<string, SoapValue>)[name] as SoapValue };
}

/** Calls one operation; its response element, or a SoapError saying why there is none. */
export async function callSoap(endpoint: string, operation: string, params: Readonly<Record<string, string | number>>, options: SoapCallOptions): Promise<SoapValue> {
  return callSoapEnvelope(endpoint, operation, buildEnvelope(operation, params), options);
}

/** Calls one operation with an envelope built by the caller (a request with nested elements: a batch's rows). */
export async function callSoapEnvelope(endpoint: string, operation: string, envelope: string, options: SoapCallOptions): Promise<SoapValue> {
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
  let parsed: { name: string; value: SoapValue };
  try {
    const answer = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${infractionsNamespace}#${operation}"` },
      body: envelope,
      signal,
      redirect: 'error',
    });
    const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
    const bytes = await readBounded(answer, maxBytes).catch((err: unknown) => {
      throw err instanceof AnswerTooLargeError ? new SoapError('too-large', `the answer is larger than ${maxBytes} bytes`) : err;
    });
    parsed = await parseAnswer(bytes, answer.headers.get('content-type') ?? '', options.maxDepth);
    // A 500 must carry a Fault (parseAnswer threw it); any other non-2xx with a body that parsed is not SOAP 1.1.
    if (!answer.ok) throw new SoapError('not-soap', `HTTP ${answer.status} without a SOAP Fault`);
  } catch (err) {
    if (err instanceof SoapError) throw err;
    if (signal.aborted) throw new SoapError('timeout', `no answer to ${operation} within ${options.timeoutMs} ms`);
    throw new SoapError('unreachable', `${operation}: ${(err as Error).message}`);
  }
  if (parsed.name !== `${operation}Response`) throw new SoapError('malformed', `expected ${operation}Response, got ${parsed.name.slice(0, 64)}`);
  return parsed.value;
}

/** The children named `name` of an element, as a list (xml2js gives one child as itself, several as an array). */
export function children(value: SoapValue | undefined, name: string): SoapValue[] {
  if (value === undefined || typeof value === 'string') return [];
  const child = value[name];
  return child === undefined ? [] : Array.isArray(child) ? child : [child];
}

/** A child's text, or undefined when absent or not text. */
export function text(value: SoapValue | undefined, name: string): string | undefined {
  if (value === undefined || typeof value === 'string') return undefined;
  const child = value[name];
  return typeof child === 'string' ? child : undefined;
}
