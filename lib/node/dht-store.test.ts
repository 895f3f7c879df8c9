/**
 * The always-on node keeps each network's DHT records on disk (docs/node.md#dht-records): real
 * libp2p nodes on loopback, restarted from their data directory.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Libp2pRecord } from '@libp2p/record';
import { Key } from 'interface-datastore';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../identity/index.ts';
import { recordDatastoreKey } from '../net/dht-records.ts';
import { addressRecordKey, createNetworkId, createNetworkNode, createPeerKey } from '../net/index.ts';
import type { NetworkNode } from '../net/index.ts';
import { createAddressRecord } from '../records/index.ts';
import { utf8 } from '../util/bytes.ts';
import { createMemoryLogger } from '../util/log.ts';
import { DAY, HOUR, SECOND } from '../util/time.ts';
import { AlwaysOnNode } from './always-on-node.ts';
import { DHT_STORES_DIR, LOCAL_HOST } from './constants.ts';
import { openDhtStore } from './dht-store.ts';
import type { DhtStore } from './dht-store.ts';
import { tempDir } from './test-helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

async function dataDir(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

async function startNode(dir: string): Promise<AlwaysOnNode> {
  const node = new AlwaysOnNode({ dataDir: dir, settings: { host: LOCAL_HOST }, frontDoor: false, watch: false });
  await node.start();
  cleanups.push(() => node.stop());
  return node;
}

/** The node's WebSockets address for `networkId` (a restart in one process serves WebSockets only). */
async function wsBootstrap(node: AlwaysOnNode, networkId: string): Promise<string[]> {
  const network = (await node.networks()).find((n) => n.id === networkId);
  const address = network?.addresses.find((a) => a.includes('/ws/'));
  if (address === undefined) throw new Error(`network ${networkId} has no WebSockets address`);
  return [address];
}

/** A browser of the network, bootstrapped from the always-on node only. */
async function device(networkId: string, bootstrap: readonly string[]): Promise<NetworkNode> {
  const node = await createNetworkNode({
    network: { id: networkId, bootstrap },
    peerKey: await createPeerKey(),
    allowLocalAddresses: true,
    transports: { webRTC: false, webTransport: false, webRTCDirect: false },
    bootstrapOnStart: false,
    log: createMemoryLogger(),
  });
  cleanups.push(() => node.stop());
  expect(await node.bootstrap()).toBe(1);
  return node;
}

async function addressRecord(networkId: string, secretKey: Uint8Array, served: NetworkNode | string, sequence: number, expiresAt: number) {
  return createAddressRecord({
    networkId,
    servedBy: [{ kind: 'device', peerId: typeof served === 'string' ? served : served.peerId.toString(), multiaddrs: [] }],
    sequence,
    expiresAt,
    secretKey,
  });
}

describe('DHT records of an always-on node', () => {
  it('a record published through the node is resolved from it after the node restarted', async () => {
    const dir = await dataDir();
    const first = await startNode(dir);
    const { id: networkId } = await first.createNetwork({ name: 'Persistent' });

    const alice = await device(networkId, await wsBootstrap(first, networkId));
    const identity = await generateKeyPair();
    const published = await alice.publish(await addressRecord(networkId, identity.secretKey, alice, 1, Date.now() + HOUR));
    expect(published.peers).toBe(1);
    expect((await first.networkNode(networkId)!.getStoredRecord(identity.publicKey))?.sequence).toBe(1);

    // Nobody else holds the record once alice is gone and the node has restarted.
    await alice.stop();
    await first.stop();
    const second = await startNode(dir);
    const served = second.networkNode(networkId)!;
    expect((await served.getStoredRecord(identity.publicKey))?.sequence).toBe(1);

    const bob = await device(networkId, await wsBootstrap(second, networkId));
    expect(bob.libp2p.getPeers().map(String)).toEqual([served.peerId.toString()]);
    const resolved = await bob.resolve(identity.publicKey);
    expect(resolved.sequence).toBe(1);
    expect(resolved.servedBy[0]?.peerId).toBe(alice.peerId.toString());
  });

  it('after a restart, refuses a record older than the one it stored, and has dropped expired ones', async () => {
    const dir = await dataDir();
    const first = await startNode(dir);
    const { id: networkId } = await first.createNetwork({ name: 'Guarded' });
    const alice = await device(networkId, await wsBootstrap(first, networkId));
    const kept = await generateKeyPair();
    const fleeting = await generateKeyPair();
    const older = await addressRecord(networkId, kept.secretKey, alice, 1, Date.now() + HOUR);
    await alice.publish(await addressRecord(networkId, kept.secretKey, alice, 2, Date.now() + HOUR));
    const expiresAt = Date.now() + 2 * SECOND;
    await alice.publish(await addressRecord(networkId, fleeting.secretKey, alice, 1, expiresAt));
    const node = first.networkNode(networkId)!;
    expect((await node.getStoredRecord(fleeting.publicKey))?.sequence).toBe(1);
    await alice.stop();
    await first.stop();

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 100));
    const second = await startNode(dir);
    const served = second.networkNode(networkId)!;
    expect((await served.getStoredRecord(kept.publicKey))?.sequence).toBe(2);
    await expect(served.validateRecord(addressRecordKey(kept.publicKey), older)).rejects.toMatchObject({ code: 'STALE_RECORD' });
    expect(await served.getStoredRecord(fleeting.publicKey)).toBeUndefined();

    const bob = await device(networkId, await wsBootstrap(second, networkId));
    await expect(bob.resolve(fleeting.publicKey)).rejects.toMatchObject({ code: 'RECORD_NOT_FOUND' });
    expect((await bob.resolve(kept.publicKey)).sequence).toBe(2);
  });

  it("deletes a network's DHT records when it leaves, and those of networks removed while the node was down", async () => {
    const dir = await dataDir();
    const node = await startNode(dir);
    const { id } = await node.createNetwork({ name: 'Short-lived' });
    const store = path.join(dir, DHT_STORES_DIR, id);
    expect((await stat(store)).isDirectory()).toBe(true);
    await node.leaveNetwork(id);
    await expect(stat(store)).rejects.toMatchObject({ code: 'ENOENT' });

    const kept = await node.createNetwork({ name: 'Kept' });
    await node.stop();
    const orphan = path.join(dir, DHT_STORES_DIR, createNetworkId()); // `p2pb-node leave` ran offline
    await mkdir(orphan);
    await startNode(dir);
    await expect(stat(orphan)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(path.join(dir, DHT_STORES_DIR, kept.id))).isDirectory()).toBe(true);
  });
});

describe('DHT record store', () => {
  const somePeer = '12D3KooWGRUVh8PghAjKhWJ9b1Jm9ZBoLBhwmbYu3Kz3Mp6xVtmJ';

  async function open(dir: string, now = Date.now): Promise<DhtStore> {
    const store = await openDhtStore(dir, { now, log: createMemoryLogger() });
    cleanups.push(() => store.close());
    return store;
  }

  /** An address record as kad-dht stores it: its datastore key and the serialized Libp2pRecord. */
  async function storedAddressRecord(networkId: string, expiresAt: number, received = new Date()): Promise<[Key, Uint8Array]> {
    const identity = await generateKeyPair();
    const key = addressRecordKey(identity.publicKey);
    const value = await addressRecord(networkId, identity.secretKey, somePeer, 1, expiresAt);
    return [recordDatastoreKey(key), new Libp2pRecord(key, value, received).serialize()];
  }

  it('keeps /dht keys across close and open, and everything else in memory only', async () => {
    const dir = path.join(await dataDir(), 'store');
    const first = await open(dir);
    expect(first.persistent).toBe(true);
    const [recordKey, record] = await storedAddressRecord(createNetworkId(), Date.now() + HOUR);
    const providerKey = new Key('/dht/provider/some-cid/some-peer');
    const peerKey = new Key('/peers/some-peer');
    await first.datastore.put(recordKey, record);
    await first.datastore.put(providerKey, utf8('provider'));
    await first.datastore.put(peerKey, utf8('peer'));
    expect(await first.datastore.has(peerKey)).toBe(true);
    await first.close();

    const second = await open(dir);
    expect(second.dropped).toBe(0);
    expect(await second.datastore.get(recordKey)).toEqual(record);
    expect(await second.datastore.get(providerKey)).toEqual(utf8('provider'));
    expect(await second.datastore.has(peerKey)).toBe(false);
  });

  it('deletes expired address records, records kad-dht would not serve, and unreadable ones when it opens', async () => {
    const dir = path.join(await dataDir(), 'store');
    const networkId = createNetworkId();
    const t0 = Date.now();
    const [live, liveValue] = await storedAddressRecord(networkId, t0 + 3 * HOUR);
    const [expired, expiredValue] = await storedAddressRecord(networkId, t0 + HOUR);
    const [stale, staleValue] = await storedAddressRecord(networkId, t0 + 3 * HOUR, new Date(t0 - 3 * DAY));
    const otherKey = utf8('/pk/someone');
    const other = recordDatastoreKey(otherKey);
    const garbage = recordDatastoreKey(utf8('/p2pb-addr/garbage'));
    const first = await open(dir);
    await first.datastore.put(live, liveValue);
    await first.datastore.put(expired, expiredValue);
    await first.datastore.put(stale, staleValue);
    await first.datastore.put(other, new Libp2pRecord(otherKey, utf8('not ours'), new Date(t0)).serialize());
    await first.datastore.put(garbage, utf8('not a record'));
    await first.close();

    const second = await open(dir, () => t0 + 2 * HOUR);
    expect(second.dropped).toBe(3);
    expect(await second.datastore.has(live)).toBe(true);
    expect(await second.datastore.has(other)).toBe(true);
    for (const key of [expired, stale, garbage]) expect(await second.datastore.has(key)).toBe(false);
  });

  it('runs on memory, with a warning, when its database cannot be opened', async () => {
    const file = path.join(await dataDir(), 'not-a-directory');
    await writeFile(file, 'x');
    const log = createMemoryLogger();
    const store = await openDhtStore(file, { log });
    expect(store.persistent).toBe(false);
    expect(log.lines.map((line) => line.level)).toEqual(['warn']);
    const [key, value] = await storedAddressRecord(createNetworkId(), Date.now() + HOUR);
    await store.datastore.put(key, value);
    expect(await store.datastore.get(key)).toEqual(value);
  });
});
