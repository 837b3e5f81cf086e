// The client side of the points register's SOAP operations (licences.ts): a licence read from its XML field by field;
// one unreadable licence makes the whole answer invalid (nothing of it is used), as for tickets.
import { callSoap, children, SoapError, text, type SoapCallOptions, type SoapValue } from './soap.ts';
import { readEpoch } from './tickets.ts';

export interface LicenceView {
  cin: string;
  holderNameLatin?: string;
  holderNameArabic?: string;
  points: number;
  status: 'valid' | 'suspended';
  suspendedAt?: string;
  sequence: number;
}

function whole(v: SoapValue, name: string): number {
  const n = Number(text(v, name) ?? '');
  if (text(v, name) === undefined || !Number.isSafeInteger(n) || n < 0) throw new SoapError('malformed', `a Licence whose ${name} is not a whole number`);
  return n;
}

export function readLicence(v: SoapValue): LicenceView {
  const cin = text(v, 'Cin');
  if (!cin) throw new SoapError('malformed', 'a Licence without Cin');
  const status = text(v, 'Status');
  if (status !== 'valid' && status !== 'suspended') throw new SoapError('malformed', 'a Licence whose Status is neither valid nor suspended');
  const optional = (name: string) => {
    const t = text(v, name);
    return t === undefined || t === '' ? undefined : t;
  };
  const holderNameLatin = optional('HolderNameLatin');
  const holderNameArabic = optional('HolderNameArabic');
  const suspendedAt = optional('SuspendedAt');
  return {
    cin, points: whole(v, 'Points'), status, sequence: whole(v, 'Sequence'),
    ...(holderNameLatin ? { holderNameLatin } : {}), ...(holderNameArabic ? { holderNameArabic } : {}), ...(suspendedAt ? { suspendedAt } : {}),
  };
}

export async function licencesSince(endpoint: string, cursor: number, max: number, options: SoapCallOptions): Promise<{ licences: LicenceView[]; cursor: number; more: boolean; epoch: string }> {
  const response = await callSoap(endpoint, 'ListLicencesSince', { Cursor: cursor, MaxResults: max }, options);
  const next = Number(text(response, 'Cursor'));
  if (!Number.isSafeInteger(next) || next < cursor) throw new SoapError('malformed', 'ListLicencesSince without a valid Cursor');
  const list = children(response, 'Licences')[0];
  return { licences: children(list, 'Licence').map(readLicence), cursor: next, more: text(response, 'More') === 'true', epoch: readEpoch(response, 'ListLicencesSince') };
}

export async function getLicence(endpoint: string, cin: string, options: SoapCallOptions): Promise<LicenceView> {
  const response = await callSoap(endpoint, 'GetLicence', { Cin: cin }, options);
  const licence = children(response, 'Licence')[0];
  if (licence === undefined) throw new SoapError('malformed', 'GetLicence without a Licence');
  return readLicence(licence);
}

/** A person's name corrected by the hub; true when the system holds a licence for the CIN and applied it. */
export async function recordIdentityCorrection(
  endpoint: string,
  correction: { cin: string; firstNameLatin?: string; lastNameLatin?: string; firstNameArabic?: string; lastNameArabic?: string },
  options: SoapCallOptions,
): Promise<boolean> {
  const params: Record<string, string> = { Cin: correction.cin };
  if (correction.firstNameLatin) params.FirstNameLatin = correction.firstNameLatin;
  if (correction.lastNameLatin) params.LastNameLatin = correction.lastNameLatin;
  if (correction.firstNameArabic) params.FirstNameArabic = correction.firstNameArabic;
  if (correction.lastNameArabic) params.LastNameArabic = correction.lastNameArabic;
  const response = await callSoap(endpoint, 'RecordIdentityCorrection', params, options);
  return text(response, 'Applied') === 'true';
}
