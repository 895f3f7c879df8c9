import { BYTE } from '../util/time.ts';

/** An ed25519 secret key is the 32-byte seed of RFC 8032 §5.1.5. */
export const SECRET_KEY_LENGTH = 32 * BYTE;
/** An ed25519 public key is the 32-byte encoded point A of RFC 8032 §5.1.5. */
export const PUBLIC_KEY_LENGTH = 32 * BYTE;
/** An ed25519 signature is R (32 bytes) || S (32 bytes, little-endian, S < L). */
export const SIGNATURE_LENGTH = 64 * BYTE;

/** First bytes of every signing input (ASCII, followed by one 0x00 byte). See docs/signatures.md. */
export const SIGNING_DOMAIN = 'P2PB-SIG-V1';
/** Longest context string, in bytes (ASCII: one byte per character); its length is stored in one byte. */
export const MAX_CONTEXT_LENGTH = 100 * BYTE;
/** Lower-case ASCII, digits and `/._:-`, starting with a letter or digit, 1..100 characters. */
export const CONTEXT_PATTERN = /^[a-z0-9][a-z0-9/._:-]{0,99}$/;

/**
 * Signing contexts in use. Each kind of signed structure has its own, so a signature made for one
 * can never be replayed as another. Add new ones here; never reuse or change an existing one.
 */
export const CONTEXTS = {
  IDENTITY_STATEMENT: 'p2pb/identity-statement/v1',
  IDENTITY_CHANGE: 'p2pb/identity-change/v1',
  PAGE_SIGN: 'p2pb/page-sign/v1',
  /** Reserved for the DHT address record (not yet implemented). */
  ADDRESS_RECORD: 'p2pb/address-record/v1',
  /** A feed envelope: one signed batch of Yjs updates in a feed (docs/feeds.md). */
  FEED_ENVELOPE: 'p2pb/feed-envelope/v1',
  /** A feed snapshot: the signed state of a feed as of one envelope (docs/feeds.md). */
  FEED_SNAPSHOT: 'p2pb/feed-snapshot/v1',
  /** A hosting delegation: "always-on node P may host my feeds in network N" (or its revocation). */
  HOSTING_DELEGATION: 'p2pb/hosting-delegation/v1',
} as const;
export type SigningContext = (typeof CONTEXTS)[keyof typeof CONTEXTS];

/** Multicodec `ed25519-pub` (0xed as an unsigned varint), prefixed to the key in its text form. */
export const ED25519_PUB_MULTICODEC: readonly number[] = [0xed, 0x01];
/** Multibase prefix for base58btc. */
export const MULTIBASE_BASE58BTC = 'z';
/** Length of a public key's text form: "z" + base58btc(0xed 0x01 + 32 bytes) is always 48 characters. */
export const PUBLIC_KEY_TEXT_LENGTH = 48;

/**
 * DER prefix of a PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410); append the 32-byte seed.
 * 30 2e | 02 01 00 | 30 05 06 03 2b 65 70 | 04 22 04 20 <seed>
 */
export const PKCS8_ED25519_PREFIX: readonly number[] = [
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/** Imported public keys kept for verification (entries; each holds a CryptoKey or a decoded point). */
export const VERIFY_KEY_CACHE_SIZE = 1024;
/** Contexts whose signing-bytes prefix is kept precomputed (entries). */
export const CONTEXT_PREFIX_CACHE_SIZE = 64;
