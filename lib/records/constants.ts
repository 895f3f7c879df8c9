import { BYTE, KiB } from '../util/time.ts';

/** The only record encoding version so far: element 0 of every record array. */
export const RECORD_VERSION = 1;

/** Element 1 of every record array: what kind of record it is. */
export const RECORD_TYPES = {
  IDENTITY_STATEMENT: 'identity-statement',
  IDENTITY_CHANGE: 'identity-change',
} as const;
export type RecordType = (typeof RECORD_TYPES)[keyof typeof RECORD_TYPES];

/** Largest encoded identity statement accepted; checked before decoding. */
export const MAX_IDENTITY_STATEMENT_BYTES = 1 * KiB;
/** Largest encoded identity change accepted; checked before decoding. */
export const MAX_IDENTITY_CHANGE_BYTES = 1 * KiB;

/** Display names are 1..64 bytes of UTF-8 (NFC, no control or bidi-override characters). */
export const MIN_DISPLAY_NAME_BYTES = 1 * BYTE;
export const MAX_DISPLAY_NAME_BYTES = 64 * BYTE;
