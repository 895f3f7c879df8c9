/**
 * Signed records: one deterministic CBOR encoding each, verified on decode. Wire format,
 * limits and test vectors: docs/records.md.
 */
export {
  MAX_ADDRESS_RECORD_BYTES,
  MAX_ADDRESSES_PER_ENTRY,
  MAX_DISPLAY_NAME_BYTES,
  MAX_HOSTING_DELEGATION_BYTES,
  HOSTING_ACTIONS,
  MAX_IDENTITY_CHANGE_BYTES,
  MAX_IDENTITY_STATEMENT_BYTES,
  MAX_MULTIADDR_TEXT_BYTES,
  MAX_PEER_ID_TEXT_BYTES,
  MAX_SERVED_BY_ENTRIES,
  MIN_DISPLAY_NAME_BYTES,
  NETWORK_ID_BYTES,
  NETWORK_ID_PATTERN,
  NETWORK_ID_TEXT_LENGTH,
  RECORD_TYPES,
  RECORD_VERSION,
  SERVED_BY_KINDS,
} from './constants.ts';
export type { HostingAction, RecordType, ServedByKind } from './constants.ts';
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

export {
  addressRecordToJSON,
  compareAddressRecords,
  createAddressRecord,
  decodeAddressRecord,
  multiaddrTextProblem,
  networkIdProblem,
  peerIdTextProblem,
} from './address-record.ts';
export type {
  AddressRecord,
  AddressRecordJSON,
  CreateAddressRecordInput,
  ServedBy,
} from './address-record.ts';
export { createHostingDelegation, decodeHostingDelegation, hostingDelegationToJSON } from './hosting-delegation.ts';
export type { CreateHostingDelegationInput, HostingDelegation, HostingDelegationJSON } from './hosting-delegation.ts';
