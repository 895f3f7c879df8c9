/**
 * Schema 1 → 2, shared by the backends' migrations (idb.ts, file.ts). Schema 1 kept each
 * envelope whole beside its hash and prev, under the feed id, and accounted it at its length +
 * 96; schema 2 keeps the value compact.ts writes under the feed's number (docs/store.md).
 */
import type { EnvelopeRecord, MetaRecord } from './backend.ts';
import { envelopeCost, feedPrefix, impliesPrev, packEnvelope } from './compact.ts';
import { STORE_SCHEMA_VERSION } from './constants.ts';

/** A schema 1 envelope record. */
export interface V1Envelope {
  hash: Uint8Array;
  prev: Uint8Array;
  bytes: Uint8Array;
}

/** A schema 1 meta record: the same fields, v 1 and no number. */
export type V1Meta = Omit<MetaRecord, 'n'>;

/** What schema 1 accounted per envelope on top of its bytes. */
const V1_ENVELOPE_OVERHEAD_BYTES = 96;

/**
 * Converts one feed: give it its envelope records in sequence order, then take its new meta
 * record (its byte count moved from schema 1's accounting to schema 2's).
 */
export class FeedMigration {
  readonly #meta: V1Meta;
  readonly #n: number;
  readonly #prefix: Uint8Array | null;
  #before: EnvelopeRecord | null = null;
  #bytes: number;

  constructor(meta: V1Meta, n: number) {
    this.#meta = meta;
    this.#n = n;
    this.#prefix = feedPrefix(meta.id);
    this.#bytes = meta.bytes;
  }

  record(seq: number, old: V1Envelope): EnvelopeRecord {
    const entry = { seq, hash: old.hash, prev: old.prev, bytes: old.bytes };
    const record = { seq, hash: old.hash, value: packEnvelope(this.#prefix, entry, !impliesPrev(seq, old.prev, this.#before)) };
    this.#bytes += envelopeCost(record.value) - (old.bytes.length + V1_ENVELOPE_OVERHEAD_BYTES);
    this.#before = record;
    return record;
  }

  meta(): MetaRecord {
    return { ...this.#meta, v: STORE_SCHEMA_VERSION, n: this.#n, bytes: this.#bytes };
  }
}
