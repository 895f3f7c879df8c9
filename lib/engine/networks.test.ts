import { FeedLibrary } from '../sync/library.ts';
import { MemoryFeedStore } from '../store/index.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKeyValueStore } from '../kv/index.ts';
import { encodeInvite } from '../net/invite.ts';
import { createNetworkId } from '../net/network-id.ts';
import { createNetworkNode, createPeerKey, type NetworkNode } from '../net/node.ts';
import { createMemoryLogger } from '../util/log.ts';
import { createVault } from '../vault/index.ts';
import { NETWORKS_KEY, NetworkManager } from './networks.ts';
import type { Signer } from './index.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** An always-on node for one network, on WebSockets at 127.0.0.1. */
async function alwaysOn(networkId: string): Promise<{ node: NetworkNode; invite: string }> {
  const node = await createNetworkNode({
    network: { id: networkId, name: 'Test network' },
    peerKey: await createPeerKey(),
    role: 'always-on',
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    allowLocalAddresses: true,
    transports: { webRTC: false, webRTCDirect: false, webTransport: false },
  });
  stops.push(() => node.stop());
  const invite = encodeInvite({ networkId, name: 'Test network', bootstrap: node.getMultiaddrs().map(String) });
  return { node, invite };
}

/** A device: its vault (the only signer) and its network manager, like the extension's engine. */
async function device(name: string, blocked: ReadonlySet<string> = new Set()) {
  const vault = createVault({ local: new MemoryKeyValueStore(), session: new MemoryKeyValueStore(), kdfIterations: 1000 });
  await vault.start();
  await vault.initialize('passphrase');
  const identity = await vault.createIdentity(name);
  const signer: Signer = { sign: (id, context, message) => vault.sign(id, context, message), identities: async () => [] };
  const kv = new MemoryKeyValueStore();
  const store = new MemoryFeedStore();
  await store.start();
  const make = () =>
    new NetworkManager(
      { node: { transports: { webRTC: false, webRTCDirect: false, webTransport: false } } },
      {
        kv,
        signer,
        log: createMemoryLogger(),
        now: Date.now,
        library: new FeedLibrary({ store, log: createMemoryLogger(), signerFor: () => undefined, keeps: () => false }),
        isBlocked: (key) => blocked.has(key),
      },
    );
  const manager = make();
  await manager.start();
  stops.push(() => manager.stop());
  return { identity, manager, kv, make, vault };
}

describe('NetworkManager', () => {
  it('joins from an invite, publishes its signed address record, and another member resolves it', async () => {
    const { node, invite } = await alwaysOn(createNetworkId());
    const alice = await device('Alice');
    const bob = await device('Bob');
    const joined = await alice.manager.join(invite, alice.identity.id);
    expect(joined).toMatchObject({ name: 'Test network', identity: alice.identity.id, status: 'online', closed: false });
    await bob.manager.join(invite, bob.identity.id);

    const record = await bob.manager.node(joined.id)!.resolve(alice.identity.publicKey);
    expect(record.servedBy[0]).toMatchObject({ kind: 'device', peerId: joined.peerId });
    expect(record.servedBy[0]!.multiaddrs.some((a) => a.includes('/p2p-circuit'))).toBe(true);
    // The always-on node stores it too (it is a DHT server).
    expect(await node.getStoredRecord(alice.identity.publicKey)).toBeDefined();
  });

  it('publishes once the vault unlocks when it joined (or restarted) while locked', async () => {
    const { node, invite } = await alwaysOn(createNetworkId());
    const alice = await device('Alice');
    await alice.vault.lock();
    const joined = await alice.manager.join(invite, alice.identity.id);
    expect(joined.status).toBe('offline');
    expect(await node.getStoredRecord(alice.identity.publicKey)).toBeUndefined();
    const online = new Promise<void>((resolve) =>
      alice.manager.onChange(() => alice.manager.list()[0]?.status === 'online' && resolve()),
    );
    await alice.vault.unlock('passphrase');
    alice.manager.retry();
    await online;
    expect((await node.getStoredRecord(alice.identity.publicKey))?.servedBy[0]).toMatchObject({ kind: 'device', peerId: joined.peerId });
  });

  it('remembers its networks, identity and PeerId across a restart, and leaving forgets only the membership', async () => {
    const { invite } = await alwaysOn(createNetworkId());
    const alice = await device('Alice');
    const joined = await alice.manager.join(invite, alice.identity.id);
    await alice.manager.stop();
    const again = alice.make();
    await again.start();
    stops.push(() => again.stop());
    expect(again.list()).toEqual([expect.objectContaining({ id: joined.id, identity: alice.identity.id, peerId: joined.peerId })]);
    await again.leave(joined.id);
    expect(again.list()).toEqual([]);
    expect(await alice.kv.get(NETWORKS_KEY)).toEqual({ version: 1, networks: [] });
  });

  it('refuses a malformed invite with a named error and joins nothing', async () => {
    const alice = await device('Alice');
    await expect(alice.manager.join('web+p2p:invite/AAAA', alice.identity.id)).rejects.toMatchObject({ code: expect.stringMatching(/INVITE|LINK/) });
    expect(alice.manager.list()).toEqual([]);
  });
  it('refuses connections from and to the devices of an identity the person blocks', async () => {
    const { invite } = await alwaysOn(createNetworkId());
    const blocked = new Set<string>();
    const alice = await device('Alice', blocked);
    const mallory = await device('Mallory');
    const joined = await alice.manager.join(invite, alice.identity.id);
    const malloryJoined = await mallory.manager.join(invite, mallory.identity.id);
    const connected = await alice.manager.connect(joined.id, mallory.identity.publicKey);
    expect(connected.peerId).toBe(malloryJoined.peerId);
    const aliceNode = alice.manager.node(joined.id)!;
    expect(aliceNode.identityOf(malloryJoined.peerId)).toBe(mallory.identity.publicKey);
    expect(aliceNode.libp2p.getConnections().some((c) => c.remotePeer.toString() === malloryJoined.peerId)).toBe(true);

    blocked.add(mallory.identity.publicKey);
    await alice.manager.enforceBlocks();
    expect(aliceNode.libp2p.getConnections().some((c) => c.remotePeer.toString() === malloryJoined.peerId)).toBe(false);
    await expect(alice.manager.connect(joined.id, mallory.identity.publicKey)).rejects.toBeDefined();
    await expect(mallory.manager.connect(malloryJoined.id, alice.identity.publicKey)).rejects.toBeDefined();
    expect(aliceNode.libp2p.getConnections().some((c) => c.remotePeer.toString() === malloryJoined.peerId)).toBe(false);
    // The always-on node is never refused for it.
    expect(aliceNode.libp2p.getConnections().length).toBeGreaterThan(0);
  });
});
