import { BYTE, KiB } from '../util/time.ts';

/** The only record encoding version so far: element 0 of every record array. */
export const RECORD_VERSION = 1;

/** Element 1 of every record array: what kind of record it is. */
export const RECORD_TYPES = {
  IDENTITY_STATEMENT: 'identity-statement',
  IDENTITY_CHANGE: 'identity-change',
  ADDRESS_RECORD: 'address-record',
  HOSTING_DELEGATION: 'hosting-delegation',
} as const;
export type RecordType = (typeof RECORD_TYPES)[keyof typeof RECORD_TYPES];

/** Largest encoded identity statement accepted; checked before decoding. */
export const MAX_IDENTITY_STATEMENT_BYTES = 1 * KiB;
/** Largest encoded identity change accepted; checked before decoding. */
export const MAX_IDENTITY_CHANGE_BYTES = 1 * KiB;

/** Display names are 1..64 bytes of UTF-8 (NFC, no control or bidi-override characters). */
export const MIN_DISPLAY_NAME_BYTES = 1 * BYTE;
export const MAX_DISPLAY_NAME_BYTES = 64 * BYTE;

/** Largest encoded address record accepted (the DHT value); checked before decoding. */
export const MAX_ADDRESS_RECORD_BYTES = 10 * KiB;
/** Most served-by entries (devices and delegated hosts) in one address record. */
export const MAX_SERVED_BY_ENTRIES = 8;
/** Most multiaddrs listed for one served-by entry. */
export const MAX_ADDRESSES_PER_ENTRY = 16;
/** Longest multiaddr text in an address record or an invite, in UTF-8 bytes. */
export const MAX_MULTIADDR_TEXT_BYTES = 256 * BYTE;
/** Longest libp2p PeerId text (base58btc multihash) in an address record. */
export const MAX_PEER_ID_TEXT_BYTES = 128 * BYTE;

/** Largest encoded hosting delegation accepted; checked before decoding. */
export const MAX_HOSTING_DELEGATION_BYTES = 1 * KiB;
/** What a hosting delegation asks of its host: start hosting, or stop. */
export const HOSTING_ACTIONS = ['host', 'revoke'] as const;
export type HostingAction = (typeof HOSTING_ACTIONS)[number];

/** Who serves an identity's data: one of the person's own devices, or an always-on host they delegated to. */
export const SERVED_BY_KINDS = ['device', 'host'] as const;
export type ServedByKind = (typeof SERVED_BY_KINDS)[number];

/** A network id is 16 random bytes (128 bits). */
export const NETWORK_ID_BYTES = 16 * BYTE;
/** Its text form: RFC 4648 base32, lower case, no padding: always 26 characters. */
export const NETWORK_ID_TEXT_LENGTH = 26;
/**
 * The exact set of canonical network id texts: 25 base32 characters, then one whose two low
 * bits are zero (26 × 5 = 130 bits carry 128), so every 16-byte value has exactly one text form.
 */
export const NETWORK_ID_PATTERN = /^[a-z2-7]{25}[aeimquy4]$/;
