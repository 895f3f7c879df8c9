import { BYTE, MiB } from '../util/time.ts';

/**
 * Version of the stored layout (IndexedDB database version, LevelDB `schema` key, meta records).
 * 2: envelopes kept as compact entries under short keys (compact.ts, docs/store.md).
 */
export const STORE_SCHEMA_VERSION = 2;

/** Default bound of the LRU that holds other people's (cached) feeds. */
export const DEFAULT_CACHE_LIMIT_BYTES = 256 * MiB;
/**
 * Bytes accounted per envelope record for its key and the record's framing. The key is the
 * feed's number and the sequence: 5–9 bytes in LevelDB (`r` n \0 seq, base 36), and an
 * IndexedDB key [n, seq] shares all but its last bytes with its neighbour's in the browser's own
 * LevelDB; plus the value's length and type headers.
 */
export const ENVELOPE_KEY_BYTES = 12 * BYTE;
/**
 * Bytes accounted per envelope record on top of its stored value (compact.ts): the SHA-256 it
 * is filed with (32: the next record's prev, and the head) and ENVELOPE_KEY_BYTES.
 */
export const ENVELOPE_OVERHEAD_BYTES = 32 * BYTE + ENVELOPE_KEY_BYTES;
/** Bytes accounted per stored snapshot or fork record on top of its bytes. */
export const RECORD_OVERHEAD_BYTES = 64 * BYTE;

/** range(): envelopes returned when no limit is given… */
export const DEFAULT_RANGE_ENVELOPES = 256;
/** …and the most that may be asked for in one batch. */
export const MAX_RANGE_ENVELOPES = 1024;
/** range(): bytes returned when no byte limit is given (at least one envelope is always returned)… */
export const DEFAULT_RANGE_BYTES = 4 * MiB;
/** …and the most that may be asked for in one batch. */
export const MAX_RANGE_BYTES = 16 * MiB;

/**
 * When the backend itself reports its quota exceeded (the browser's QuotaExceededError, a disk
 * that is full), cached feeds are evicted to free at least this much before the one retry.
 */
export const QUOTA_RETRY_FREE_BYTES = 8 * MiB;

/** Longest feed id a store accepts (a feed id is 48 characters of key, "/", and ≤ 100 of name). */
export const MAX_FEED_ID_LENGTH = 160;
