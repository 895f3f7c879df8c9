import { Point } from '@noble/ed25519';
import { base58 } from '@scure/base';
import {
  ED25519_PUB_MULTICODEC,
  MULTIBASE_BASE58BTC,
  PUBLIC_KEY_LENGTH,
  PUBLIC_KEY_TEXT_LENGTH,
} from './constants.ts';
import { InvalidPublicKeyError } from './errors.ts';

type EdPoint = InstanceType<typeof Point>;

/**
 * Decodes a public key to a curve point, or explains why it is not acceptable. Accepted keys are
 * exactly: 32 bytes, the canonical RFC 8032 encoding of a point on the curve (y < p, no "negative
 * zero" x), and not of small order (the 8 low-order points would let one signature verify for
 * many messages). Both backends apply this same rule before verifying, so they agree on keys.
 */
export function decodePoint(bytes: Uint8Array): EdPoint | string {
  if (!(bytes instanceof Uint8Array)) return 'public key must be a Uint8Array';
  if (bytes.length !== PUBLIC_KEY_LENGTH) {
    return `public key must be ${PUBLIC_KEY_LENGTH} bytes, got ${bytes.length}`;
  }
  let point: EdPoint;
  try {
    point = Point.fromBytes(bytes, false); // strict RFC 8032 decoding (not ZIP-215)
  } catch {
    return 'public key is not a canonical ed25519 point';
  }
  if (point.isSmallOrder()) return 'public key is a small-order point';
  return point;
}

/** True when `bytes` is an acceptable ed25519 public key (see decodePoint). */
export function isValidPublicKey(bytes: Uint8Array): boolean {
  return typeof decodePoint(bytes) !== 'string';
}

/** Throws InvalidPublicKeyError unless `bytes` is an acceptable ed25519 public key. */
export function assertPublicKey(bytes: Uint8Array): void {
  const result = decodePoint(bytes);
  if (typeof result === 'string') throw new InvalidPublicKeyError(result);
}

/**
 * Text form of a public key: multibase base58btc ("z") of multicodec ed25519-pub (0xed 0x01)
 * followed by the 32 key bytes — the did:key method-specific id, always 48 characters starting
 * with "z6Mk". Safe in URLs, file names and DHT keys.
 */
export function encodePublicKey(publicKey: Uint8Array): string {
  assertPublicKey(publicKey);
  const bytes = new Uint8Array(ED25519_PUB_MULTICODEC.length + PUBLIC_KEY_LENGTH);
  bytes.set(ED25519_PUB_MULTICODEC, 0);
  bytes.set(publicKey, ED25519_PUB_MULTICODEC.length);
  return MULTIBASE_BASE58BTC + base58.encode(bytes);
}

/**
 * Parses the text form made by encodePublicKey and returns the 32 key bytes.
 * @throws InvalidPublicKeyError for a wrong prefix, length or character, or a key that is not an
 * acceptable curve point.
 */
export function decodePublicKey(text: string): Uint8Array {
  if (typeof text !== 'string') throw new InvalidPublicKeyError('public key text must be a string');
  // Length first: base58 decoding is quadratic, so never feed it long input.
  if (text.length !== PUBLIC_KEY_TEXT_LENGTH) {
    throw new InvalidPublicKeyError(
      `public key text must be ${PUBLIC_KEY_TEXT_LENGTH} characters, got ${text.length}`,
    );
  }
  if (!text.startsWith(MULTIBASE_BASE58BTC)) {
    throw new InvalidPublicKeyError('public key text must start with "z" (multibase base58btc)');
  }
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(text.slice(MULTIBASE_BASE58BTC.length));
  } catch (cause) {
    throw new InvalidPublicKeyError('public key text has a character outside base58btc', { cause });
  }
  if (
    bytes.length !== ED25519_PUB_MULTICODEC.length + PUBLIC_KEY_LENGTH ||
    bytes[0] !== ED25519_PUB_MULTICODEC[0] ||
    bytes[1] !== ED25519_PUB_MULTICODEC[1]
  ) {
    throw new InvalidPublicKeyError('public key text is not multicodec ed25519-pub (0xed01) + 32 bytes');
  }
  const publicKey = bytes.slice(ED25519_PUB_MULTICODEC.length);
  assertPublicKey(publicKey);
  return publicKey;
}

/** True when `text` is a valid public key text form (decodePublicKey would succeed). */
export function isPublicKeyText(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  try {
    decodePublicKey(text);
    return true;
  } catch {
    return false;
  }
}
