/**
 * Signed records: one deterministic CBOR encoding each, verified on decode. Wire format,
 * limits and test vectors: docs/records.md.
 */
export {
  MAX_DISPLAY_NAME_BYTES,
  MAX_IDENTITY_CHANGE_BYTES,
  MAX_IDENTITY_STATEMENT_BYTES,
  MIN_DISPLAY_NAME_BYTES,
  RECORD_TYPES,
  RECORD_VERSION,
} from './constants.ts';
export type { RecordType } from './constants.ts';
export {
  RECORD_ERROR_CODES,
  BadRecordSignatureError,
  MalformedRecordError,
  NonCanonicalRecordError,
  RecordFieldError,
  RecordTooLargeError,
  UnsupportedRecordVersionError,
  WrongRecordTypeError,
} from './errors.ts';
export type { RecordErrorCode } from './errors.ts';
export { displayNameProblem } from './codec.ts';
export type { RecordSigner } from './codec.ts';
export {
  createIdentityStatement,
  decodeIdentityStatement,
  identityStatementToJSON,
} from './identity-statement.ts';
export type {
  CreateIdentityStatementInput,
  IdentityStatement,
  IdentityStatementJSON,
} from './identity-statement.ts';
export { createIdentityChange, decodeIdentityChange, identityChangeToJSON } from './identity-change.ts';
export type { CreateIdentityChangeInput, IdentityChange, IdentityChangeJSON } from './identity-change.ts';

