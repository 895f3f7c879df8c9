import { P2pbError } from '../util/errors.ts';

/** Every error code a record decoder can throw (for callers and tests that match on codes). */
export const RECORD_ERROR_CODES = [
  'RECORD_TOO_LARGE',
  'MALFORMED_RECORD',
  'NON_CANONICAL_RECORD',
  'UNSUPPORTED_RECORD_VERSION',
  'WRONG_RECORD_TYPE',
  'INVALID_RECORD_FIELD',
  'BAD_RECORD_SIGNATURE',
] as const;
export type RecordErrorCode = (typeof RECORD_ERROR_CODES)[number];

/** Encoded record longer than its limit; refused before decoding. */
export class RecordTooLargeError extends P2pbError {
  constructor(length: number, limit: number) {
    super('RECORD_TOO_LARGE', `record is ${length} bytes, limit is ${limit}`);
  }
}

/** Not well-formed strict CBOR, or not an array of the expected shape. */
export class MalformedRecordError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_RECORD', message, options);
  }
}

/** Decodes, but is not the one deterministic encoding of its value (RFC 8949 §4.2.1). */
export class NonCanonicalRecordError extends P2pbError {
  constructor(message = 'record is not in deterministic CBOR encoding') {
    super('NON_CANONICAL_RECORD', message);
  }
}

export class UnsupportedRecordVersionError extends P2pbError {
  constructor(version: number) {
    super('UNSUPPORTED_RECORD_VERSION', `unsupported record version ${version}`);
  }
}

export class WrongRecordTypeError extends P2pbError {
  constructor(expected: string, actual: string) {
    super(
      'WRONG_RECORD_TYPE',
      `expected a ${JSON.stringify(expected)} record, got ${JSON.stringify(actual.slice(0, 64))}`,
    );
  }
}

/** A field has the wrong type or breaks its limits; `field` names it. */
export class RecordFieldError extends P2pbError {
  readonly field: string;

  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super('INVALID_RECORD_FIELD', `invalid record field "${field}": ${reason}`, options);
    this.field = field;
  }
}

/** A signature in the record does not verify. */
export class BadRecordSignatureError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_RECORD_SIGNATURE', message, options);
  }
}
