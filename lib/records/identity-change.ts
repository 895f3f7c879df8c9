import { equalBytes, toBase64url } from '../util/bytes.ts';
import { CONTEXTS, createSigningKey, encodePublicKey } from '../identity/index.ts';
import {
  checkPublicKey,
  checkSignature,
  checkTimestamp,
  decodeRecordArray,
  encodeRecord,
  requireSignature,
} from './codec.ts';
import type { RecordSigner } from './codec.ts';
import { MAX_IDENTITY_CHANGE_BYTES, RECORD_TYPES, RECORD_VERSION } from './constants.ts';
import { RecordFieldError, RecordTooLargeError } from './errors.ts';

/**
 * "oldKey is succeeded by newKey, as of createdAt". Signed by the old key (it authorises the
 * move) and by the new key (it proves the successor holds it, so nobody can name a key they do
 * not own), both over the same signing bytes.
 * Wire form: [1, "identity-change", oldKey, newKey, createdAt, oldSignature, newSignature].
 */
export interface IdentityChange {
  readonly version: typeof RECORD_VERSION;
  readonly oldKey: Uint8Array;
  readonly newKey: Uint8Array;
  /** ms since the Unix epoch when it was signed. */
  readonly createdAt: number;
  readonly oldSignature: Uint8Array;
  readonly newSignature: Uint8Array;
  /** The exact encoded record. */
  readonly bytes: Uint8Array;
}

export interface IdentityChangeJSON {
  oldKey: string;
  newKey: string;
  createdAt: number;
  oldSignature: string;
  newSignature: string;
  encoded: string;
}

export type CreateIdentityChangeInput = {
  createdAt: number;
} & ({ oldSecretKey: Uint8Array; oldSigner?: undefined } | { oldSigner: RecordSigner; oldSecretKey?: undefined }) &
  ({ newSecretKey: Uint8Array; newSigner?: undefined } | { newSigner: RecordSigner; newSecretKey?: undefined });

const TYPE = RECORD_TYPES.IDENTITY_CHANGE;
const LENGTH = 7;

function unsigned(oldKey: Uint8Array, newKey: Uint8Array, createdAt: number): Uint8Array {
  return encodeRecord([RECORD_VERSION, TYPE, oldKey, newKey, createdAt]);
}

/** Signs (with both keys) and encodes an identity change. @throws RecordFieldError */
export async function createIdentityChange(input: CreateIdentityChangeInput): Promise<Uint8Array> {
  const createdAt = checkTimestamp(input.createdAt, 'createdAt');
  const [oldSigner, newSigner] = await Promise.all([
    input.oldSigner ?? createSigningKey(input.oldSecretKey),
    input.newSigner ?? createSigningKey(input.newSecretKey),
  ]);
  const oldKey = checkPublicKey(oldSigner.publicKey, 'oldKey');
  const newKey = checkPublicKey(newSigner.publicKey, 'newKey');
  if (equalBytes(oldKey, newKey)) throw new RecordFieldError('newKey', 'must differ from oldKey');
  const message = unsigned(oldKey, newKey, createdAt);
  const [oldSignature, newSignature] = await Promise.all([
    oldSigner.sign(CONTEXTS.IDENTITY_CHANGE, message),
    newSigner.sign(CONTEXTS.IDENTITY_CHANGE, message),
  ]);
  const bytes = encodeRecord([RECORD_VERSION, TYPE, oldKey, newKey, createdAt, oldSignature, newSignature]);
  if (bytes.length > MAX_IDENTITY_CHANGE_BYTES) {
    throw new RecordTooLargeError(bytes.length, MAX_IDENTITY_CHANGE_BYTES); // unreachable with today's limits
  }
  return bytes;
}

/**
 * Decodes and verifies an identity change (both signatures).
 * @throws RecordTooLargeError, MalformedRecordError, NonCanonicalRecordError,
 * UnsupportedRecordVersionError, WrongRecordTypeError, RecordFieldError, BadRecordSignatureError
 */
export async function decodeIdentityChange(bytes: Uint8Array): Promise<IdentityChange> {
  const items = decodeRecordArray(bytes, { type: TYPE, length: LENGTH, maxBytes: MAX_IDENTITY_CHANGE_BYTES });
  const oldKey = checkPublicKey(items[2], 'oldKey');
  const newKey = checkPublicKey(items[3], 'newKey');
  if (equalBytes(oldKey, newKey)) throw new RecordFieldError('newKey', 'must differ from oldKey');
  const createdAt = checkTimestamp(items[4], 'createdAt');
  const oldSignature = checkSignature(items[5], 'oldSignature');
  const newSignature = checkSignature(items[6], 'newSignature');
  const message = unsigned(oldKey, newKey, createdAt);
  await requireSignature(oldKey, CONTEXTS.IDENTITY_CHANGE, message, oldSignature, 'identity change oldSignature');
  await requireSignature(newKey, CONTEXTS.IDENTITY_CHANGE, message, newSignature, 'identity change newSignature');
  return { version: RECORD_VERSION, oldKey, newKey, createdAt, oldSignature, newSignature, bytes: new Uint8Array(bytes) };
}

/** The JSON view handed to pages (window.p2p). */
export function identityChangeToJSON(change: IdentityChange): IdentityChangeJSON {
  return {
    oldKey: encodePublicKey(change.oldKey),
    newKey: encodePublicKey(change.newKey),
    createdAt: change.createdAt,
    oldSignature: toBase64url(change.oldSignature),
    newSignature: toBase64url(change.newSignature),
    encoded: toBase64url(change.bytes),
  };
}
