import { isValidFeedName } from '../feeds/index.ts';
import { InvalidListRefError, InvalidModerationKeyError } from './errors.ts';
import type { ListRef } from './types.ts';

/**
 * The text form of an ed25519 public key is "z" + base58btc(0xed 0x01 + 32 bytes): always 48
 * characters, always starting "z6Mk". Lists are checked against this SHAPE only: a full check
 * decompresses a curve point (~140 µs, 14 s for 100,000 entries). A key of the right shape that
 * is not a curve point can never author anything, so blocking or trusting it is harmless.
 */
const KEY_TEXT = /^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/;

/** True when `value` has the shape of a public key text (see KEY_TEXT). */
export function isKeyText(value: unknown): value is string {
  return typeof value === 'string' && value.length === 48 && KEY_TEXT.test(value);
}

/** @throws InvalidModerationKeyError */
export function checkKeyText(value: unknown, what = 'key'): string {
  if (!isKeyText(value)) throw new InvalidModerationKeyError(`${what} must be a public key text ("z6Mk…", 48 characters)`);
  return value;
}

/** `z6MkhaXg…` — enough of a key for a sentence; UIs render names with describeReason. */
export function shortKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 12)}…` : key;
}

/** `<curator>/<feed>`: a list's id, which is also the id of the feed that holds it. */
export function listIdOf(ref: ListRef): string {
  return `${ref.curator}/${ref.feed}`;
}

/** Checks a list reference. @throws InvalidListRefError */
export function checkListRef(value: unknown): ListRef {
  const ref = value as ListRef;
  if (typeof ref !== 'object' || ref === null) throw new InvalidListRefError('a list is { curator, feed }');
  if (!isKeyText(ref.curator)) throw new InvalidListRefError('curator must be a public key text ("z6Mk…", 48 characters)');
  if (typeof ref.feed !== 'string' || !isValidFeedName(ref.feed)) throw new InvalidListRefError('feed must be a feed name (docs/feeds.md)');
  return { curator: ref.curator, feed: ref.feed };
}

/** Parses `<curator>/<feed>` (the key text is 48 characters, so it splits at the first "/"). @throws InvalidListRefError */
export function parseListId(id: unknown): ListRef {
  if (typeof id !== 'string' || id.length > 200) throw new InvalidListRefError('a list id is "<curator key>/<feed name>"');
  const slash = id.indexOf('/');
  if (slash < 0) throw new InvalidListRefError('a list id is "<curator key>/<feed name>"');
  return checkListRef({ curator: id.slice(0, slash), feed: id.slice(slash + 1) });
}
