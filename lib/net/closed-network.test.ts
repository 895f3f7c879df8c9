import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../util/log.ts';
import { generateKeyPair } from '../identity/index.ts';
import type { KeyPair } from '../identity/index.ts';
import { createAddressRecord } from '../records/index.ts';
import { MINUTE } from '../util/time.ts';
import { addressRecordKey, createNetworkId, createNetworkNode, createNetworkSecret, createPeerKey } from './index.ts';
import type { NetworkNode, NetworkNodeConfig } from './index.ts';
import { containsBytes, firstSelfQuery, getValueMessage, memoryNodeConfig, nextEvent, rawDhtRequest, startMemoryNetwork, stopAll } from './test-support.ts';

const AUTH_TIMEOUT_IN_TEST = 2_000;

describe('a closed network', () => {
  const networkId = createNetworkId();
  const secret = createNetworkSecret();
  let members: NetworkNode[] = [];
  let gate: NetworkNode; // a member that also listens on WebRTC-direct, which does not run our Noise
  const outsiders: NetworkNode[] = [];
  let erin: KeyPair;
  let erinRecord: Uint8Array;

  /** A node that only speaks WebRTC-direct (its handshake ignores the Noise prologue). */
  const webRTCDirectNode = async (network: NetworkNodeConfig['network']) => {
    const node = await createNetworkNode({
      network,
      peerKey: await createPeerKey(),
      listen: [],
      transports: { webSockets: false, webRTCDirect: true, circuitRelay: false },
      allowLocalAddresses: true,
      clientMode: false,
      timing: { authTimeout: AUTH_TIMEOUT_IN_TEST },
      log: createMemoryLogger(),
    });
    outsiders.push(node);
    return node;
  };

  const webRTCDirectAddress = () => gate.getMultiaddrs().find((ma) => ma.toString().includes('/webrtc-direct/'))!;

  beforeAll(async () => {
    members = await startMemoryNetwork(3, { networkId, secret });
    gate = await createNetworkNode({
      ...memoryNodeConfig(networkId),
      network: { id: networkId, secret, bootstrap: members[0]!.getMultiaddrs().map(String) },
      peerKey: await createPeerKey(),
      listen: [...memoryNodeConfig(networkId).listen!, '/ip4/127.0.0.1/udp/0/webrtc-direct'],
      transports: { memory: true, webSockets: false, webRTCDirect: true, circuitRelay: false },
      timing: { authTimeout: AUTH_TIMEOUT_IN_TEST },
    });
    members.push(gate);
    const known = firstSelfQuery(gate);
    expect(await gate.bootstrap()).toBe(1);
    await known;
    erin = await generateKeyPair();
    erinRecord = await createAddressRecord({
      secretKey: erin.secretKey,
      networkId,
      servedBy: [{ kind: 'device', peerId: members[1]!.peerId.toString(), multiaddrs: [] }],
      sequence: 1,
      expiresAt: Date.now() + 10 * MINUTE,
    });
    // Published by the gate, so the node the WebRTC-direct tests ask certainly holds it.
    expect((await gate.publish(erinRecord)).peers).toBeGreaterThanOrEqual(1);
  }, 60_000);

  afterAll(() => stopAll([...members, ...outsiders]));

  it('lets members that hold the secret publish and resolve', async () => {
    for (const member of members) expect((await member.resolve(erin.publicKey)).sequence).toBe(1);
  });

  it('refuses the Noise handshake of a node with another secret, or with none', async () => {
    for (const secretOfOutsider of [createNetworkSecret(), undefined]) {
      const outsider = await createNetworkNode({
        ...memoryNodeConfig(networkId),
        network: { id: networkId, secret: secretOfOutsider },
        peerKey: await createPeerKey(),
      });
      outsiders.push(outsider);
      const error = await outsider.libp2p.dial(members[0]!.getMultiaddrs()[0]!).catch((e: unknown) => e);
      expect((error as Error)?.name).toBe('EncryptionFailedError');
      expect(members[0]!.libp2p.getConnections(outsider.peerId)).toHaveLength(0);
    }
  });

  it('serves the DHT to a member on a transport without our Noise (WebRTC-direct), after the membership handshake', async () => {
    const member = await webRTCDirectNode({ id: networkId, secret });
    const connection = await member.libp2p.dial(webRTCDirectAddress());
    expect(connection.remoteAddr.toString()).toContain('/webrtc-direct/');
    const response = await rawDhtRequest(member, gate.peerId, getValueMessage(addressRecordKey(erin.publicKey)));
    expect(containsBytes(response, erinRecord)).toBe(true);
    expect(connection.status).toBe('open');
  });

  it('refuses a non-member on WebRTC-direct: no DHT answer, MEMBERSHIP_REFUSED, connection closed', async () => {
    // An open-network node with the same network id: it speaks the DHT protocol but cannot prove
    // the secret, so it never passes the handshake.
    const outsider = await webRTCDirectNode({ id: networkId });
    const refused = nextEvent(gate, 'peer-refused', (detail) => detail.peerId === outsider.peerId.toString());
    const connection = await outsider.libp2p.dial(webRTCDirectAddress());
    const answer = await rawDhtRequest(outsider, gate.peerId, getValueMessage(addressRecordKey(erin.publicKey))).then(
      (response) => response,
      () => undefined,
    );
    expect(answer, 'the stream is reset before any answer').toBeUndefined();
    expect((await refused).code).toBe('MEMBERSHIP_REFUSED');
    await expect.poll(() => connection.status, { timeout: AUTH_TIMEOUT_IN_TEST }).not.toBe('open');
    expect(gate.libp2p.getConnections(outsider.peerId).filter((c) => c.status === 'open')).toHaveLength(0);
  });

  it('refuses a node with another secret on WebRTC-direct as soon as the handshake fails', async () => {
    const outsider = await webRTCDirectNode({ id: networkId, secret: createNetworkSecret() });
    const refused = nextEvent(gate, 'peer-refused', (detail) => detail.peerId === outsider.peerId.toString());
    const started = Date.now();
    await outsider.libp2p.dial(webRTCDirectAddress()).catch(() => undefined);
    expect((await refused).code).toBe('MEMBERSHIP_REFUSED');
    expect(Date.now() - started).toBeLessThan(AUTH_TIMEOUT_IN_TEST);
    const answer = await rawDhtRequest(outsider, gate.peerId, getValueMessage(addressRecordKey(erin.publicKey))).catch(
      () => undefined,
    );
    expect(answer === undefined || !containsBytes(answer, erinRecord)).toBe(true);
  });
});
