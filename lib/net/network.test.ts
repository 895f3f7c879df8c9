import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../util/bytes.ts';
import { hasCode } from '../util/errors.ts';
import { generateKeyPair } from '../identity/index.ts';
import type { KeyPair } from '../identity/index.ts';
import { createAddressRecord } from '../records/index.ts';
import { DEFAULT_ADDRESS_RECORD_TTL, createNetworkId } from './index.ts';
import type { NetworkNode } from './index.ts';
import { startMemoryNetwork, stopAll } from './test-support.ts';

/** A deterministic sequence of pseudo-random integers (mulberry32), so failures reproduce. */
function seeded(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % below) >>> 0;
  };
}

describe('a network of 32 nodes', () => {
  const SIZE = 32;
  // k = 8 (an invite setting; the default is 20): each record lives on the 8 nodes closest to its
  // key, so most members hold no copy and a resolve has to route to one.
  const K = 8;
  // Members whose identities publish (every member could; eight keep the test short on two
  // cores, where all 32 libp2p nodes share one thread).
  const PUBLISHERS = 8;
  const networkId = createNetworkId();
  let nodes: NetworkNode[] = [];
  let identities: KeyPair[] = [];
  const published: number[] = [];

  beforeAll(async () => {
    nodes = await startMemoryNetwork(SIZE, { networkId, settings: { dhtKBucketSize: K } });
    identities = await Promise.all(nodes.map(() => generateKeyPair()));
    // Members publish the record of their own identity, one after another.
    for (const [i, node] of nodes.slice(0, PUBLISHERS).entries()) {
      const bytes = await createAddressRecord({
        secretKey: identities[i]!.secretKey,
        networkId,
        servedBy: [{ kind: 'device', peerId: node.peerId.toString(), multiaddrs: node.getMultiaddrs().map((ma) => ma.decapsulateCode(421).toString()) }],
        sequence: 1,
        expiresAt: Date.now() + DEFAULT_ADDRESS_RECORD_TTL,
      });
      published.push((await node.publish(bytes)).peers);
    }
  }, 120_000);

  afterAll(() => stopAll(nodes));

  it('stores every record on k peers', () => {
    expect(published).toHaveLength(PUBLISHERS);
    for (const peers of published) expect(peers).toBeGreaterThanOrEqual(K - 1);
  });

  it('resolves the identity of any member from any other member', async () => {
    const random = seeded(0x5eed);
    for (let sample = 0; sample < 10; sample++) {
      const of = random(PUBLISHERS);
      let from = random(SIZE - 1);
      if (from >= of) from++;
      const record = await nodes[from]!.resolve(identities[of]!.publicKey);
      expect(toHex(record.publicKey)).toBe(toHex(identities[of]!.publicKey));
      expect(record.networkId).toBe(networkId);
      expect(record.servedBy[0]!.peerId).toBe(nodes[of]!.peerId.toString());
    }
  });

  it('resolves through peers that do not hold the record themselves', async () => {
    // Find a node outside the record's k closest (it holds no copy) and resolve from there.
    const of = 3;
    let outsider: NetworkNode | undefined;
    for (const node of nodes) {
      if (node === nodes[of]) continue;
      if ((await node.getStoredRecord(identities[of]!.publicKey)) === undefined) {
        outsider = node;
        break;
      }
    }
    expect(outsider, 'with k = 8 of 32, most members hold no copy').toBeDefined();
    const record = await outsider!.resolve(identities[of]!.publicKey);
    expect(record.servedBy[0]!.peerId).toBe(nodes[of]!.peerId.toString());
  });

  it('connects to the member that serves an identity', async () => {
    const result = await nodes[27]!.connect(identities[6]!.publicKey);
    expect(result.peerId.toString()).toBe(nodes[6]!.peerId.toString());
    expect(result.direct).toBe(true);
    expect(result.connection.status).toBe('open');
  });

  it('fails with RECORD_NOT_FOUND for an identity nobody published', async () => {
    const stranger = await generateKeyPair();
    const error = await nodes[5]!.resolve(stranger.publicKey).catch((e: unknown) => e);
    expect(hasCode(error, 'RECORD_NOT_FOUND'), String(error)).toBe(true);
  });
});
