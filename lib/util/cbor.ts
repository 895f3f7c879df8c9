/**
 * Deterministic CBOR for every signed structure (records, feed envelopes, invites): one
 * canonical encoding (RFC 8949 core deterministic, via cborg), and a strict decode that accepts
 * only bytes that re-encode to themselves.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import type { DecodeOptions } from 'cborg';
import { equalBytes } from './bytes.ts';

/**
 * Shortest integers and lengths; no indefinite lengths, undefined, NaN, ±Infinity, integers
 * beyond 2^53 - 1, duplicate map keys; no tag decoders, so every tag is refused. cborg cannot
 * refuse floats while decoding: the re-encoding check and the callers' field checks catch them.
 */
const STRICT: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
};
/** The same, but allowing non-shortest integers/lengths and indefinite lengths. */
const LENIENT: DecodeOptions = { ...STRICT, strict: false, allowIndefinite: true };

/** Why bytes are not canonical CBOR: callers turn this into their own named error. */
export class CanonicalCborError extends Error {
  readonly reason: 'malformed' | 'non-canonical';
  constructor(reason: 'malformed' | 'non-canonical', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.name = 'CanonicalCborError';
  }
}

/** Canonical CBOR, always as a plain Uint8Array (cborg may return a Node Buffer, whose slice() is a view). */
export function encodeCanonical(value: unknown): Uint8Array {
  const out = encode(value, rfc8949EncodeOptions);
  return Object.getPrototypeOf(out) === Uint8Array.prototype ? out : new Uint8Array(out);
}

/**
 * Decodes strictly and requires that the value re-encodes to exactly `bytes`.
 * @throws CanonicalCborError: 'non-canonical' for a valid value in another encoding (a
 * non-shortest integer, an indefinite length, unsorted map keys…), 'malformed' otherwise.
 */
export function decodeCanonical(bytes: Uint8Array, options: { useMaps?: boolean } = {}): unknown {
  const strict = options.useMaps ? { ...STRICT, useMaps: true } : STRICT;
  let value: unknown;
  try {
    value = decode(bytes, strict);
  } catch (cause) {
    let lenient = false;
    try {
      decode(bytes, options.useMaps ? { ...LENIENT, useMaps: true } : LENIENT);
      lenient = true;
    } catch {
      // not CBOR at all
    }
    if (lenient) throw new CanonicalCborError('non-canonical', 'is not in its shortest, definite-length form', { cause });
    throw new CanonicalCborError('malformed', `is not strict CBOR: ${String((cause as Error)?.message ?? cause)}`, { cause });
  }
  let canonical: Uint8Array;
  try {
    canonical = encode(value, rfc8949EncodeOptions);
  } catch (cause) {
    throw new CanonicalCborError('malformed', 'cannot be re-encoded', { cause });
  }
  if (!equalBytes(canonical, bytes)) throw new CanonicalCborError('non-canonical', 'is not deterministic CBOR');
  return value;
}
