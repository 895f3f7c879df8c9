import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../util/errors.ts';
import { createMemoryLogger } from '../util/log.ts';
import { generateKeyPair } from '../identity/index.ts';
import type { KeyPair } from '../identity/index.ts';
import { createAddressRecord } from '../records/index.ts';
import { MINUTE } from '../util/time.ts';
import { createNetworkId, createNetworkNode, createPeerKey, peerIdOfKey } from './index.ts';
import type { NetworkNode, NetworkNodeConfig } from './index.ts';
import { stopAll, untilSelfUpdate } from './test-support.ts';

const withoutPeerId = (address: string) => address.replace(/\/p2p\/[^/]+$/, '');

describe('connecting to the peer that serves an identity (WebSockets and circuit relay on 127.0.0.1)', () => {
  const networkId = createNetworkId();
  const nodes: NetworkNode[] = [];
  let relay: NetworkNode; // the always-on node: relay, bootstrap, DHT server
  let hidden: NetworkNode; // a device with no direct address (a browser behind NAT)
  let reachable: NetworkNode; // a device that also listens on WebSockets
  let caller: NetworkNode; // a device with no listen address at all
  let hiddenOwner: KeyPair;
  let reachableOwner: KeyPair;

  const node = async (config: Partial<NetworkNodeConfig>) => {
    const made = await createNetworkNode({
      network: { id: networkId, bootstrap: relay === undefined ? [] : relay.getMultiaddrs().map(String) },
      peerKey: await createPeerKey(),
      transports: { webSockets: true, webRTCDirect: false, circuitRelay: true },
      allowLocalAddresses: true,
      log: createMemoryLogger(),
      ...config,
    });
    nodes.push(made);
    return made;
  };

  const hasRelayAddress = (n: NetworkNode) => n.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'));

  const publish = async (owner: KeyPair, device: NetworkNode, multiaddrs: string[]) =>
    device.publish(
      await createAddressRecord({
        secretKey: owner.secretKey,
        networkId,
        servedBy: [{ kind: 'device', peerId: device.peerId.toString(), multiaddrs }],
        sequence: 1,
        expiresAt: Date.now() + 10 * MINUTE,
      }),
    );

  beforeAll(async () => {
    relay = await node({ role: 'always-on', listen: ['/ip4/127.0.0.1/tcp/0/ws'] });
    hidden = await node({ clientMode: true, listen: ['/p2p-circuit'] });
    reachable = await node({ clientMode: true, listen: ['/ip4/127.0.0.1/tcp/0/ws', '/p2p-circuit'] });
    caller = await node({ clientMode: true, listen: [] });
    for (const device of [hidden, reachable, caller]) expect(await device.bootstrap()).toBe(1);
    // Reservations on the relay show up as /p2p-circuit addresses.
    await Promise.all([untilSelfUpdate(hidden, hasRelayAddress), untilSelfUpdate(reachable, hasRelayAddress)]);
    [hiddenOwner, reachableOwner] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    const relayed = (n: NetworkNode) => n.getMultiaddrs().map(String).filter((a) => a.includes('/p2p-circuit')).map(withoutPeerId);
    const direct = (n: NetworkNode) => n.getMultiaddrs().map(String).filter((a) => !a.includes('/p2p-circuit')).map(withoutPeerId);
    expect(direct(hidden)).toEqual([]);
    expect((await publish(hiddenOwner, hidden, relayed(hidden))).peers).toBe(1);
    // The relayed address is listed first: connect still prefers the direct one.
    expect((await publish(reachableOwner, reachable, [...relayed(reachable), ...direct(reachable)])).peers).toBe(1);
  }, 60_000);

  afterAll(() => stopAll(nodes));

  it('prefers a direct address over a relayed one', async () => {
    const result = await caller.connect(reachableOwner.publicKey);
    expect(result.peerId.toString()).toBe(reachable.peerId.toString());
    expect(result.direct).toBe(true);
    expect(result.connection.remoteAddr.toString()).not.toContain('/p2p-circuit');
    expect(result.connection.limits).toBeUndefined();
  });

  it('falls back to the relay when a device has no direct address', async () => {
    const result = await caller.connect(hiddenOwner.publicKey);
    expect(result.peerId.toString()).toBe(hidden.peerId.toString());
    expect(result.direct).toBe(false);
    expect(result.connection.remoteAddr.toString()).toContain('/p2p-circuit');
    expect(result.record.servedBy[0]!.peerId).toBe(hidden.peerId.toString());
  });

  it('fails with PEER_UNREACHABLE when no served-by peer answers', async () => {
    const ghost = await generateKeyPair();
    const gone = await createPeerKey();
    await caller.publish(
      await createAddressRecord({
        secretKey: ghost.secretKey,
        networkId,
        servedBy: [{ kind: 'host', peerId: peerIdOfKey(gone), multiaddrs: ['/ip4/127.0.0.1/tcp/9/ws'] }],
        sequence: 1,
        expiresAt: Date.now() + MINUTE,
      }),
    );
    const error = await caller.connect(ghost.publicKey).catch((e: unknown) => e);
    expect(hasCode(error, 'PEER_UNREACHABLE'), String(error)).toBe(true);
  });

  it('reports its status', () => {
    const status = relay.status();
    expect(status).toMatchObject({ networkId, running: true, closed: false, dhtMode: 'server' });
    expect(status.connections).toBeGreaterThanOrEqual(3);
    expect(caller.status().dhtMode).toBe('client');
  });
});

describe('a node restarted with the same peer key', () => {
  it('keeps its PeerId', async () => {
    const networkId = createNetworkId();
    const peerKey = await createPeerKey();
    const config = { network: { id: networkId }, peerKey, listen: [], transports: { webRTCDirect: false }, log: createMemoryLogger() };
    const first = await createNetworkNode(config);
    const id = first.peerId.toString();
    await first.stop();
    const second = await createNetworkNode(config);
    try {
      expect(second.peerId.toString()).toBe(id);
      expect(peerIdOfKey(peerKey)).toBe(id);
    } finally {
      await second.stop();
    }
  });

  it('refuses a config without a valid network id or peer key with named errors', async () => {
    const peerKey = await createPeerKey();
    const bad = await createNetworkNode({ network: { id: 'x' }, peerKey }).catch((e: unknown) => e);
    expect(hasCode(bad, 'INVALID_NETWORK_ID')).toBe(true);
    const noKey = await createNetworkNode({ network: { id: createNetworkId() }, peerKey: 'k' as never }).catch((e: unknown) => e);
    expect(hasCode(noKey, 'INVALID_NETWORK_CONFIG')).toBe(true);
    const secret = await createNetworkNode({ network: { id: createNetworkId(), secret: new Uint8Array(3) }, peerKey }).catch((e: unknown) => e);
    expect(hasCode(secret, 'INVALID_NETWORK_SECRET')).toBe(true);
  });
});
