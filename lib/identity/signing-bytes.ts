import {
  CONTEXT_PATTERN,
  CONTEXT_PREFIX_CACHE_SIZE,
  SIGNING_DOMAIN,
} from './constants.ts';
import { InvalidContextError, InvalidMessageError } from './errors.ts';

/** True when `context` is a string matching CONTEXT_PATTERN (so it is ASCII and at most 100 bytes). */
export function isValidContext(context: unknown): context is string {
  return typeof context === 'string' && CONTEXT_PATTERN.test(context);
}

// "P2PB-SIG-V1" 0x00 len(context) context — precomputed per context; contexts are few.
const prefixes = new Map<string, Uint8Array>();

function contextPrefix(context: string): Uint8Array {
  const cached = prefixes.get(context);
  if (cached !== undefined) return cached;
  if (!isValidContext(context)) {
    throw new InvalidContextError(
      `invalid signing context ${JSON.stringify(String(context)).slice(0, 120)}: expected ${CONTEXT_PATTERN}`,
    );
  }
  const prefix = new Uint8Array(SIGNING_DOMAIN.length + 2 + context.length);
  let offset = 0;
  for (let i = 0; i < SIGNING_DOMAIN.length; i++) prefix[offset++] = SIGNING_DOMAIN.charCodeAt(i);
  prefix[offset++] = 0x00;
  prefix[offset++] = context.length; // ASCII: characters = bytes, and ≤ 100 so it fits in one byte
  for (let i = 0; i < context.length; i++) prefix[offset++] = context.charCodeAt(i);
  if (prefixes.size >= CONTEXT_PREFIX_CACHE_SIZE) {
    const oldest = prefixes.keys().next().value;
    if (oldest !== undefined) prefixes.delete(oldest);
  }
  prefixes.set(context, prefix);
  return prefix;
}

/**
 * The bytes an ed25519 signature actually covers, for a message signed under `context`:
 *
 *     "P2PB-SIG-V1" (11 ASCII bytes) || 0x00 || u8(len(context)) || context (ASCII) || message
 *
 * Domain separation: a signature made for one context (say a page signing request) can never be
 * valid for another (say an identity statement), and never for a protocol that signs raw
 * messages. Anyone can verify with any RFC 8032 ed25519 implementation by rebuilding these bytes;
 * see docs/signatures.md.
 *
 * @throws InvalidContextError when `context` does not match CONTEXT_PATTERN.
 * @throws InvalidMessageError when `message` is not a Uint8Array.
 */
export function signingBytes(context: string, message: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = contextPrefix(context);
  if (!(message instanceof Uint8Array)) throw new InvalidMessageError();
  const out = new Uint8Array(prefix.length + message.length);
  out.set(prefix, 0);
  out.set(message, prefix.length);
  return out;
}
