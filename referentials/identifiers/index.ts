// Identifier rules for the referentials: pure functions, no I/O beyond reading the plate codes once at load.
// Each parse function returns an IdentifierResult: { ok: true, value, warnings } or { ok: false, code, message }.

export { accept, refuse, type Accepted, type IdentifierResult, type Refused } from './result.ts';
export { generateIce, iceControlKey, isValidIce, makeIce, normaliseIce, parseIce, type Ice, type IceErrorCode } from './ice.ts';
export { isValidCin, normaliseCin, parseCin, type Cin, type CinErrorCode } from './cin.ts';
export {
  formatPlate,
  isValidPlate,
  parsePlate,
  plateLetter,
  type DiplomaticPlate,
  type OldPlate,
  type Plate,
  type PlateErrorCode,
  type PlateLetter,
  type PlateType,
  type StandardPlate,
  type StatePlate,
  type TemporaryPlate,
} from './plate.ts';
export { platePrefecture, platePrefectures, type PlatePrefecture } from './prefectures.ts';
export { isValidVin, normaliseVin, parseVin, vinCheckDigit, type Vin, type VinErrorCode } from './vin.ts';
export { parseCnss, parseIf, parseRc, type CompanyIdErrorCode, type Rc, type RcOptions } from './company-ids.ts';
export { findRcCourt, rcCourts, type RcCourt } from './rc-courts.ts';
