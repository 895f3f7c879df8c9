import { BYTE, MiB } from '../util/time.ts';

/** Element 0 of every feed envelope and snapshot: the only encoding version so far. */
export const FEED_FORMAT_VERSION = 1;

/** Element 1: what kind of feed structure it is. */
export const FEED_RECORD_TYPES = {
  ENVELOPE: 'feed-envelope',
  SNAPSHOT: 'feed-snapshot',
  BACKUP: 'feed-backup',
} as const;

/** Largest encoded envelope accepted or produced; checked before decoding. */
export const MAX_ENVELOPE_BYTES = 1 * MiB;
/** Largest encoded snapshot accepted or produced; checked before decoding. */
export const MAX_SNAPSHOT_BYTES = 16 * MiB;
/**
 * Most bytes an envelope adds around its Yjs update: fixed fields, the longest feed name, the
 * largest sequence and timestamp, the byte-string headers and the signature (measured bound).
 */
export const MAX_ENVELOPE_OVERHEAD_BYTES = 320 * BYTE;
/** Largest Yjs update one local transaction may produce (it must fit in one envelope). */
export const MAX_UPDATE_BYTES = MAX_ENVELOPE_BYTES - MAX_ENVELOPE_OVERHEAD_BYTES;

/** Feed names are 1..100 bytes: lower-case ASCII letters, digits and `._:/-`, starting with a letter or digit. */
export const MIN_FEED_NAME_BYTES = 1 * BYTE;
export const MAX_FEED_NAME_BYTES = 100 * BYTE;
export const FEED_NAME_PATTERN = /^[a-z0-9][a-z0-9._:/-]{0,99}$/;

/** SHA-256 of an encoded envelope: the `prev` field and the snapshot's `headHash`. */
export const HASH_BYTES = 32 * BYTE;
/** Sequences start at 1 and stay at or below 2^53 - 1. */
export const FIRST_SEQ = 1;
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Validated author keys remembered (entries): checking a key costs a point decompression. */
export const VALID_KEY_CACHE_SIZE = 1024;

/** Out-of-order envelopes held per feed until the gap before them fills (entries)… */
export const MAX_HELD_ENVELOPES = 256;
/** …and their total size (bytes). Past either limit an early envelope is refused (OUT_OF_CHAIN). */
export const MAX_HELD_BYTES = 4 * MiB;

/**
 * A received run is stored and applied in chunks of this many envelopes, each as soon as its
 * signatures are checked, so the document takes the first envelopes while WebCrypto (off the
 * main thread) still checks the later ones. Each chunk is one store write.
 */
export const RUN_INGEST_CHUNK = 64;

/** Envelopes read from the store per batch when a feed loads or serves. */
export const LOAD_BATCH_ENVELOPES = 512;
/** Bytes read from the store per batch when a feed loads or serves. */
export const LOAD_BATCH_BYTES = 4 * MiB;

/** Largest backup file importBackup() accepts; checked before decoding. */
export const MAX_BACKUP_BYTES = 1024 * MiB;
/** Version of the backup file layout (element 0 of the backup array). */
export const BACKUP_FORMAT_VERSION = 1;
