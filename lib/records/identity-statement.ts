import { toBase64url } from '../util/bytes.ts';
import { CONTEXTS, createSigningKey, encodePublicKey } from '../identity/index.ts';
import {
  checkDisplayName,
  checkPublicKey,
  checkSignature,
  checkTimestamp,
  decodeRecordArray,
  encodeRecord,
  requireSignature,
} from './codec.ts';
import type { RecordSigner } from './codec.ts';
import { MAX_IDENTITY_STATEMENT_BYTES, RECORD_TYPES, RECORD_VERSION } from './constants.ts';
import { RecordTooLargeError } from './errors.ts';

/**
 * "This key calls itself displayName, as of createdAt", signed by the key itself.
 * Wire form: [1, "identity-statement", publicKey, displayName, createdAt, signature].
 */
export interface IdentityStatement {
  readonly version: typeof RECORD_VERSION;
  readonly publicKey: Uint8Array;
  readonly displayName: string;
  /** ms since the Unix epoch when it was signed; a newer statement supersedes an older one. */
  readonly createdAt: number;
  readonly signature: Uint8Array;
  /** The exact encoded record. */
  readonly bytes: Uint8Array;
}

export interface IdentityStatementJSON {
  /** Text form (z6Mk…). */
  publicKey: string;
  displayName: string;
  createdAt: number;
  /** base64url, no padding. */
  signature: string;
  /** The whole record, base64url, no padding: what to pass on for others to verify. */
  encoded: string;
}

export type CreateIdentityStatementInput = {
  displayName: string;
  createdAt: number;
} & ({ secretKey: Uint8Array; signer?: undefined } | { signer: RecordSigner; secretKey?: undefined });

const TYPE = RECORD_TYPES.IDENTITY_STATEMENT;
const LENGTH = 6;

function unsigned(publicKey: Uint8Array, displayName: string, createdAt: number): Uint8Array {
  return encodeRecord([RECORD_VERSION, TYPE, publicKey, displayName, createdAt]);
}

/** Signs and encodes an identity statement. @throws RecordFieldError for a bad name or time. */
export async function createIdentityStatement(input: CreateIdentityStatementInput): Promise<Uint8Array> {
  const displayName = checkDisplayName(input.displayName, 'displayName');
  const createdAt = checkTimestamp(input.createdAt, 'createdAt');
  const signer = input.signer ?? (await createSigningKey(input.secretKey));
  const publicKey = checkPublicKey(signer.publicKey, 'publicKey');
  const message = unsigned(publicKey, displayName, createdAt);
  const signature = await signer.sign(CONTEXTS.IDENTITY_STATEMENT, message);
  const bytes = encodeRecord([RECORD_VERSION, TYPE, publicKey, displayName, createdAt, signature]);
  if (bytes.length > MAX_IDENTITY_STATEMENT_BYTES) {
    throw new RecordTooLargeError(bytes.length, MAX_IDENTITY_STATEMENT_BYTES); // unreachable with today's limits
  }
  return bytes;
}

/**
 * Decodes and verifies an identity statement.
 * @throws RecordTooLargeError, MalformedRecordError, NonCanonicalRecordError,
 * UnsupportedRecordVersionError, WrongRecordTypeError, RecordFieldError, BadRecordSignatureError
 */
export async function decodeIdentityStatement(bytes: Uint8Array): Promise<IdentityStatement> {
  const items = decodeRecordArray(bytes, { type: TYPE, length: LENGTH, maxBytes: MAX_IDENTITY_STATEMENT_BYTES });
  const publicKey = checkPublicKey(items[2], 'publicKey');
  const displayName = checkDisplayName(items[3], 'displayName');
  const createdAt = checkTimestamp(items[4], 'createdAt');
  const signature = checkSignature(items[5], 'signature');
  await requireSignature(
    publicKey,
    CONTEXTS.IDENTITY_STATEMENT,
    unsigned(publicKey, displayName, createdAt),
    signature,
    'identity statement signature',
  );
  return { version: RECORD_VERSION, publicKey, displayName, createdAt, signature, bytes: new Uint8Array(bytes) };
}

/** The JSON view handed to pages (window.p2p). */
export function identityStatementToJSON(statement: IdentityStatement): IdentityStatementJSON {
  return {
    publicKey: encodePublicKey(statement.publicKey),
    displayName: statement.displayName,
    createdAt: statement.createdAt,
    signature: toBase64url(statement.signature),
    encoded: toBase64url(statement.bytes),
  };
}
