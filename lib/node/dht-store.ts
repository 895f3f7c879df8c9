/**
 * Each network's DHT records on disk (docs/node.md#dht-records): the datastore an always-on node
 * gives a network's libp2p node, so the signed address records and provider records browsers
 * stored on it survive a restart.
 *
 * Keys under kad-dht's /dht prefix (/dht/record/…, /dht/provider/…) go to a LevelDB database of
 * their own per network (datastore-level over classic-level) at <data>/dht/<networkId>/; every
 * other key (the peer store: which browsers connected, from which IP addresses) stays in memory.
 * A persisted peer store would also make kad-dht refill its routing table on start with browsers
 * long gone, and ping each of them.
 *
 * lib/net wraps this datastore in its record guard (guardRecordDatastore) as before, so a stale
 * record is still refused on write and an expired one is still refused when read. Records that
 * expired while the node was down, or that no longer decode, are deleted when the store opens.
 */
import { mkdir } from 'node:fs/promises';
import { Libp2pRecord } from '@libp2p/record';
import { MemoryDatastore, MountDatastore } from 'datastore-core';
import { LevelDatastore } from 'datastore-level';
import { Key } from 'interface-datastore';
import type { Datastore, Pair } from 'interface-datastore';
import { ADDRESS_RECORD_KEY_PREFIX, DHT_DATASTORE_PREFIX, DHT_RECORD_DATASTORE_PREFIX } from '../net/constants.ts';
import { decodeAddressRecord } from '../records/index.ts';
import { fromUtf8 } from '../util/bytes.ts';
import type { Logger } from '../util/log.ts';
import {
  DATA_DIR_MODE,
  DHT_RECORD_MAX_AGE,
  DHT_STORE_CACHE_BYTES,
  DHT_STORE_MAX_OPEN_FILES,
  DHT_STORE_WRITE_BUFFER_BYTES,
} from './constants.ts';

export interface DhtStore {
  /** The database directory. */
  readonly path: string;
  /** The datastore to give createNetworkNode (`config.datastore`). */
  readonly datastore: Datastore;
  /** False when the database could not be opened and records are kept in memory for this run. */
  readonly persistent: boolean;
  /** Records deleted when the store opened (expired, older than DHT_RECORD_MAX_AGE, or unreadable). */
  readonly dropped: number;
  /** Closes the database; call after the network's node stopped. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDhtStoreOptions {
  /** Clock for record expiry (default Date.now). */
  now?: () => number;
  /** Where a database that cannot be opened is reported (the network then runs on memory). */
  log?: Logger;
}

const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * classic-level hands back Node Buffers, whose slice() is a view, not a copy: values leave this
 * store as plain Uint8Arrays, as they left the in-memory datastore it replaces.
 */
class PlainLevelDatastore extends LevelDatastore {
  override async get(key: Key, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    return plain(await super.get(key, options));
  }

  override async *_query(opts: { values: boolean; prefix?: string }): AsyncIterable<Pair> {
    for await (const pair of super._query(opts)) {
      yield pair.value === undefined ? pair : { key: pair.key, value: plain(pair.value) };
    }
  }
}

/** Whether a stored kad-dht record would be refused anyway: unreadable, too old, or an expired address record. */
async function isDead(raw: Uint8Array, now: number): Promise<boolean> {
  let record: Libp2pRecord;
  try {
    record = Libp2pRecord.deserialize(raw);
  } catch {
    return true;
  }
  const received = record.timeReceived?.getTime();
  if (received === undefined || Number.isNaN(received) || now - received > DHT_RECORD_MAX_AGE) return true;
  let key: string;
  try {
    key = fromUtf8(record.key);
  } catch {
    return false; // not ours: kad-dht's own rules apply
  }
  if (!key.startsWith(ADDRESS_RECORD_KEY_PREFIX)) return false;
  try {
    return (await decodeAddressRecord(record.value)).expiresAt <= now;
  } catch {
    return true;
  }
}

/** Deletes the records of `level` that would be refused anyway; returns how many. */
async function sweep(level: PlainLevelDatastore, now: number): Promise<number> {
  const batch = level.batch();
  let dropped = 0;
  for await (const { key, value } of level.query({ prefix: DHT_RECORD_DATASTORE_PREFIX })) {
    if (await isDead(value, now)) {
      batch.delete(key);
      dropped++;
    }
  }
  if (dropped > 0) await batch.commit();
  return dropped;
}

/** /dht/… on `persistent`, everything else in memory. */
function split(persistent: Datastore): Datastore {
  return new MountDatastore([
    { prefix: new Key(DHT_DATASTORE_PREFIX), datastore: persistent },
    { prefix: new Key('/'), datastore: new MemoryDatastore() },
  ]);
}

/**
 * Opens (creating it when missing, mode 0700) the DHT record database at `dir` and deletes the
 * records that would be refused anyway. A database that cannot be opened (corrupt, unwritable) is
 * reported to `log` and left as it is: the network runs with its records in memory, as its
 * publishers put them again within REPUBLISH_INTERVAL.
 */
export async function openDhtStore(dir: string, options: OpenDhtStoreOptions = {}): Promise<DhtStore> {
  const now = options.now ?? Date.now;
  const level = new PlainLevelDatastore(dir, {
    cacheSize: DHT_STORE_CACHE_BYTES,
    writeBufferSize: DHT_STORE_WRITE_BUFFER_BYTES,
    maxOpenFiles: DHT_STORE_MAX_OPEN_FILES,
  });
  let dropped: number;
  try {
    await mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
    await level.open();
    try {
      dropped = await sweep(level, now());
    } catch (error) {
      await level.close().catch(() => {});
      throw error;
    }
  } catch (error) {
    options.log?.warn(
      `cannot open the DHT record store ${dir}; this network keeps its records in memory until restarted (move the directory aside to start it afresh):`,
      (error as Error)?.message ?? error,
    );
    return { path: dir, datastore: split(new MemoryDatastore()), persistent: false, dropped: 0, close: async () => {} };
  }
  let closed: Promise<void> | undefined;
  return {
    path: dir,
    datastore: split(level),
    persistent: true,
    dropped,
    close: () => (closed ??= level.close()),
  };
}
