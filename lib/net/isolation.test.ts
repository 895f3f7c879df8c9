import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../util/errors.ts';
import { generateKeyPair } from '../identity/index.ts';
import type { KeyPair } from '../identity/index.ts';
import { createAddressRecord } from '../records/index.ts';
import { MINUTE } from '../util/time.ts';
import { createNetworkId, dhtProtocol } from './index.ts';
import type { NetworkNode } from './index.ts';
import { startMemoryNetwork, stopAll } from './test-support.ts';

describe('two networks in one process', () => {
  const idA = createNetworkId();
  const idB = createNetworkId();
  let a: NetworkNode[] = [];
  let b: NetworkNode[] = [];
  let bob: KeyPair; // appears only in B
  let dana: KeyPair; // appears only in A

  const publish = async (node: NetworkNode, who: KeyPair) =>
    node.publish(
      await createAddressRecord({
        secretKey: who.secretKey,
        networkId: node.networkId,
        servedBy: [{ kind: 'device', peerId: node.peerId.toString(), multiaddrs: [] }],
        sequence: 1,
        expiresAt: Date.now() + 10 * MINUTE,
      }),
    );

  beforeAll(async () => {
    [a, b] = await Promise.all([startMemoryNetwork(4, { networkId: idA }), startMemoryNetwork(4, { networkId: idB })]);
    [bob, dana] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    await publish(b[1]!, bob);
    await publish(a[1]!, dana);
  }, 60_000);

  afterAll(() => stopAll([...a, ...b]));

  it('a lookup in A for an identity that is only in B fails, and succeeds in B', async () => {
    const inA = await a[2]!.resolve(bob.publicKey).catch((e: unknown) => e);
    expect(hasCode(inA, 'RECORD_NOT_FOUND'), String(inA)).toBe(true);
    expect((await b[2]!.resolve(bob.publicKey)).networkId).toBe(idB);
    const inB = await b[3]!.resolve(dana.publicKey).catch((e: unknown) => e);
    expect(hasCode(inB, 'RECORD_NOT_FOUND'), String(inB)).toBe(true);
    expect((await a[3]!.resolve(dana.publicKey)).networkId).toBe(idA);
  });

  it("no node's peer store holds a peer of the other network", async () => {
    const idsOf = (nodes: NetworkNode[]) => new Set(nodes.map((node) => node.peerId.toString()));
    const inA = idsOf(a);
    const inB = idsOf(b);
    for (const [nodes, others] of [
      [a, inB],
      [b, inA],
    ] as const) {
      for (const node of nodes) {
        const known = (await node.libp2p.peerStore.all()).map((peer) => peer.id.toString());
        expect(known.length).toBeGreaterThan(0);
        for (const id of known) expect(others.has(id), `${id} leaked across networks`).toBe(false);
      }
    }
  });

  it("no node knows the other network's protocols", async () => {
    for (const [nodes, foreign] of [
      [a, dhtProtocol(idB)],
      [b, dhtProtocol(idA)],
    ] as const) {
      for (const node of nodes) {
        expect(node.libp2p.getProtocols()).not.toContain(foreign);
        for (const peer of await node.libp2p.peerStore.all()) expect(peer.protocols).not.toContain(foreign);
      }
    }
  });

  it('a node of A cannot even connect to a node of B (the Noise handshake is bound to the network)', async () => {
    const error = await a[0]!.libp2p.dial(b[0]!.getMultiaddrs()[0]!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(b[0]!.libp2p.getConnections(a[0]!.peerId)).toHaveLength(0);
  });
});
