/**
 * Address records in a network's DHT: the key, the validator and selector kad-dht runs, and the
 * guard on the node's datastore that makes "never replace a newer record" atomic.
 * Rules: docs/networks.md#address-records-in-the-dht.
 */
import { Libp2pRecord } from '@libp2p/record';
import { base32nopad } from '@scure/base';
import { Key } from 'interface-datastore';
import type { Datastore } from 'interface-datastore';
import { equalBytes, fromUtf8, utf8 } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { decodePublicKey, encodePublicKey } from '../identity/index.ts';
import { MAX_ADDRESS_RECORD_BYTES, RecordTooLargeError, compareAddressRecords, decodeAddressRecord } from '../records/index.ts';
import type { AddressRecord } from '../records/index.ts';
import {
  ADDRESS_RECORD_KEY_PREFIX,
  DHT_RECORD_DATASTORE_PREFIX,
  MAX_ADDRESS_RECORD_LIFETIME,
} from './constants.ts';
import {
  ExpiredRecordError,
  InvalidRecordKeyError,
  RecordKeyMismatchError,
  RecordLifetimeTooLongError,
  StaleRecordError,
  WrongNetworkError,
} from './errors.ts';

/** The DHT key of an identity's address record: UTF-8 of /p2pb-addr/<public key text form>. */
export function addressRecordKey(publicKey: Uint8Array): Uint8Array {
  return utf8(ADDRESS_RECORD_KEY_PREFIX + encodePublicKey(publicKey));
}

/** The identity public key a DHT key names. @throws InvalidRecordKeyError */
export function parseAddressRecordKey(key: Uint8Array): Uint8Array {
  let text: string;
  try {
    text = fromUtf8(key);
  } catch (cause) {
    throw new InvalidRecordKeyError('DHT key is not UTF-8', { cause });
  }
  if (!text.startsWith(ADDRESS_RECORD_KEY_PREFIX)) {
    throw new InvalidRecordKeyError(`DHT key is not in ${ADDRESS_RECORD_KEY_PREFIX}`);
  }
  try {
    return decodePublicKey(text.slice(ADDRESS_RECORD_KEY_PREFIX.length));
  } catch (cause) {
    throw new InvalidRecordKeyError('DHT key does not end in an identity public key', { cause });
  }
}

/** Where kad-dht stores the record for `key` in the node's datastore (its bufferToRecordKey). */
export function recordDatastoreKey(key: Uint8Array): Key {
  return new Key(DHT_RECORD_DATASTORE_PREFIX + base32nopad.encode(key).toLowerCase(), false);
}

/** The stored address record for `key` if there is one that still decodes and has not expired. */
export async function readStoredRecord(
  datastore: Datastore,
  key: Uint8Array,
  now: number,
  options: { signal?: AbortSignal } = {},
): Promise<AddressRecord | undefined> {
  let raw: Uint8Array;
  try {
    raw = await datastore.get(recordDatastoreKey(key), options);
  } catch (error) {
    if ((error as Error)?.name === 'NotFoundError') return undefined;
    throw error;
  }
  try {
    const record = await decodeAddressRecord(Libp2pRecord.deserialize(raw).value);
    return record.expiresAt > now ? record : undefined;
  } catch {
    return undefined; // unreadable or stale leftovers do not block a valid record
  }
}

export interface AddressRecordValidatorInit {
  networkId: string;
  /** The node's datastore (kad-dht's), to compare with the stored record. */
  datastore: () => Datastore | undefined;
  now: () => number;
}

export interface ValidateOptions {
  signal?: AbortSignal;
  /** Compare with the stored record and refuse an older one (default true). */
  checkStored?: boolean;
}

/**
 * Everything a node checks before it stores, serves or uses an address record, in this order:
 * DHT key form (INVALID_RECORD_KEY); size, encoding, fields and signature (lib/records codes);
 * record key = DHT key (RECORD_KEY_MISMATCH); network (WRONG_NETWORK); expiry (EXPIRED_RECORD,
 * RECORD_LIFETIME_TOO_LONG); not older than the stored record (STALE_RECORD).
 */
export function createAddressRecordValidator(init: AddressRecordValidatorInit) {
  return async function validateAddressRecord(
    key: Uint8Array,
    value: Uint8Array,
    options: ValidateOptions = {},
  ): Promise<AddressRecord> {
    const publicKey = parseAddressRecordKey(key);
    if (value.length > MAX_ADDRESS_RECORD_BYTES) throw new RecordTooLargeError(value.length, MAX_ADDRESS_RECORD_BYTES);
    const record = await decodeAddressRecord(value);
    if (!equalBytes(record.publicKey, publicKey)) throw new RecordKeyMismatchError();
    if (record.networkId !== init.networkId) throw new WrongNetworkError(init.networkId, record.networkId);
    const now = init.now();
    if (record.expiresAt <= now) throw new ExpiredRecordError(record.expiresAt, now);
    if (record.expiresAt > now + MAX_ADDRESS_RECORD_LIFETIME) {
      throw new RecordLifetimeTooLongError(record.expiresAt, now + MAX_ADDRESS_RECORD_LIFETIME);
    }
    const datastore = init.datastore();
    if (options.checkStored !== false && datastore !== undefined) {
      const stored = await readStoredRecord(datastore, key, now, options);
      if (stored !== undefined && compareAddressRecords(record, stored) < 0) {
        throw new StaleRecordError(record.sequence, stored.sequence);
      }
    }
    return record;
  };
}

/**
 * kad-dht selector: the index of the newest record (compareAddressRecords); records that do not
 * decode rank below every record that does.
 */
export async function selectAddressRecord(_key: Uint8Array, values: Uint8Array[]): Promise<number> {
  let best = 0;
  let bestRecord: AddressRecord | undefined;
  for (const [i, value] of values.entries()) {
    let record: AddressRecord;
    try {
      record = await decodeAddressRecord(value);
    } catch {
      continue;
    }
    if (bestRecord === undefined || compareAddressRecords(record, bestRecord) > 0) {
      best = i;
      bestRecord = record;
    }
  }
  return best;
}

/**
 * Wraps kad-dht's datastore so that writing an address record never replaces a newer one: the
 * read-compare-write runs one at a time per key, so two PUT_VALUEs racing past the validator
 * cannot leave the older record stored. Everything else passes straight through.
 */
export function guardRecordDatastore(
  datastore: Datastore,
  options: { now: () => number; onRefused?: (error: P2pbError, key: Key) => void },
): Datastore {
  const queues = new Map<string, Promise<unknown>>();
  const guardedPut = async (key: Key, value: Uint8Array, putOptions?: { signal?: AbortSignal }): Promise<Key> => {
    const name = key.toString();
    const previous = queues.get(name) ?? Promise.resolve();
    const run = previous.then(async () => {
      const incoming = Libp2pRecord.deserialize(value);
      if (incoming.key.length > 0 && startsWith(incoming.key, ADDRESS_RECORD_KEY_PREFIX)) {
        const now = options.now();
        const stored = await readStoredRecord(datastore, incoming.key, now, putOptions);
        if (stored !== undefined) {
          const record = await decodeAddressRecord(incoming.value).catch(() => undefined);
          if (record === undefined || compareAddressRecords(record, stored) < 0) {
            const error = new StaleRecordError(record?.sequence ?? -1, stored.sequence);
            options.onRefused?.(error, key);
            throw error;
          }
        }
      }
      return datastore.put(key, value, putOptions);
    });
    const settled = run.catch(() => undefined);
    queues.set(name, settled);
    void settled.then(() => {
      if (queues.get(name) === settled) queues.delete(name);
    });
    return run;
  };
  return new Proxy(datastore, {
    get(target, property, receiver) {
      if (property === 'put') {
        return (key: Key, value: Uint8Array, putOptions?: { signal?: AbortSignal }) =>
          key.toString().startsWith(DHT_RECORD_DATASTORE_PREFIX)
            ? guardedPut(key, value, putOptions)
            : target.put(key, value, putOptions);
      }
      const member = Reflect.get(target, property, receiver) as unknown;
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(target) : member;
    },
  });
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  const expected = utf8(prefix);
  return bytes.length >= expected.length && equalBytes(bytes.subarray(0, expected.length), expected);
}
