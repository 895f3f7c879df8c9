/**
 * The one encoding shared by every record: a CBOR array [version, type, ...fields, signature(s)]
 * in RFC 8949 §4.2.1 core deterministic encoding. See docs/records.md.
 */
import { utf8 } from '../util/bytes.ts';
import { decodeCanonical, encodeCanonical, type CanonicalCborError } from '../util/cbor.ts';
import { P2pbError } from '../util/errors.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, isValidPublicKey, verify } from '../identity/index.ts';
import {
  MAX_DISPLAY_NAME_BYTES,
  MIN_DISPLAY_NAME_BYTES,
  RECORD_VERSION,
} from './constants.ts';
import {
  BadRecordSignatureError,
  MalformedRecordError,
  NonCanonicalRecordError,
  RecordFieldError,
  RecordTooLargeError,
  UnsupportedRecordVersionError,
  WrongRecordTypeError,
} from './errors.ts';

export type RecordValue = number | string | Uint8Array;

/** Deterministic CBOR of a record array. */
export function encodeRecord(items: readonly RecordValue[]): Uint8Array {
  return encodeCanonical(items);
}

/**
 * Size check, strict decode, canonical check, version, type and arity — everything common to
 * every record. Returns the array's elements (fields not yet checked).
 */
export function decodeRecordArray(
  bytes: Uint8Array,
  options: { type: string; length: number; maxBytes: number },
): unknown[] {
  if (!(bytes instanceof Uint8Array)) throw new MalformedRecordError('record must be a Uint8Array');
  if (bytes.length > options.maxBytes) throw new RecordTooLargeError(bytes.length, options.maxBytes);
  let value: unknown;
  try {
    value = decodeCanonical(bytes);
  } catch (cause) {
    if ((cause as CanonicalCborError).reason === 'non-canonical') throw new NonCanonicalRecordError();
    throw new MalformedRecordError(`record ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(value)) throw new MalformedRecordError('record is not a CBOR array');

  const [version, type] = value as unknown[];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new MalformedRecordError('record version is not an unsigned integer');
  }
  if (version !== RECORD_VERSION) throw new UnsupportedRecordVersionError(version);
  if (typeof type !== 'string') throw new MalformedRecordError('record type is not a text string');
  if (type !== options.type) throw new WrongRecordTypeError(options.type, type);
  if (value.length !== options.length) {
    throw new MalformedRecordError(
      `a ${options.type} record has ${options.length} elements, got ${value.length}`,
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Field checks: each throws RecordFieldError naming the field, and returns an owned copy.

export function checkBytes(value: unknown, field: string, length: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new RecordFieldError(field, 'expected a byte string');
  if (value.length !== length) {
    throw new RecordFieldError(field, `expected ${length} bytes, got ${value.length}`);
  }
  // new Uint8Array, not slice(): a Node Buffer's slice() is a view, not a copy.
  return new Uint8Array(value);
}

export function checkPublicKey(value: unknown, field: string): Uint8Array {
  const bytes = checkBytes(value, field, PUBLIC_KEY_LENGTH);
  if (!isValidPublicKey(bytes)) throw new RecordFieldError(field, 'not a valid ed25519 public key');
  return bytes;
}

export function checkSignature(value: unknown, field: string): Uint8Array {
  return checkBytes(value, field, SIGNATURE_LENGTH);
}

/** Milliseconds since the Unix epoch: an unsigned integer ≤ 2^53 - 1. */
export function checkTimestamp(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RecordFieldError(field, 'expected an unsigned integer (ms since the Unix epoch) ≤ 2^53 - 1');
  }
  return value;
}

// C0 and C1 controls and DEL (Cc), and the bidirectional formatting characters (ALM, LRM, RLM,
// LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI) that can make a name display as another.
const FORBIDDEN_IN_NAME = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `name` is not a valid display name, or null when it is. */
export function displayNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'expected a text string';
  if (LONE_SURROGATE.test(name)) return 'contains a lone surrogate (not valid Unicode)';
  const length = utf8(name).length;
  if (length < MIN_DISPLAY_NAME_BYTES || length > MAX_DISPLAY_NAME_BYTES) {
    return `expected ${MIN_DISPLAY_NAME_BYTES}..${MAX_DISPLAY_NAME_BYTES} UTF-8 bytes, got ${length}`;
  }
  if (FORBIDDEN_IN_NAME.test(name)) return 'contains a control or bidirectional formatting character';
  if (name.normalize('NFC') !== name) return 'not in Unicode normalization form NFC';
  return null;
}

export function checkDisplayName(value: unknown, field: string): string {
  const problem = displayNameProblem(value);
  if (problem !== null) throw new RecordFieldError(field, problem);
  return value as string;
}

// ---------------------------------------------------------------------------------------------

/**
 * Verifies one signature; BadRecordSignatureError when it does not verify. The inputs were
 * checked first, so an error from verify() is unexpected, but is still reported as a bad
 * signature rather than escaping as something else.
 */
export async function requireSignature(
  publicKey: Uint8Array,
  context: string,
  message: Uint8Array,
  signature: Uint8Array,
  what: string,
): Promise<void> {
  let ok: boolean;
  try {
    ok = await verify(publicKey, context, message, signature);
  } catch (cause) {
    if (cause instanceof P2pbError) throw new BadRecordSignatureError(`${what} cannot be verified`, { cause });
    throw cause;
  }
  if (!ok) throw new BadRecordSignatureError(`${what} does not verify`);
}

/** A key that signs: a raw seed, or anything with a public key and a sign() (the vault's keys). */
export interface RecordSigner {
  readonly publicKey: Uint8Array;
  sign(context: string, message: Uint8Array): Promise<Uint8Array>;
}
