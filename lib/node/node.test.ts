import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Libp2p } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { generateKeyPair } from '../identity/index.ts';
import { createNetworkId, createNetworkNode, createNetworkSecret, createPeerKey, decodeInvite } from '../net/index.ts';
import type { NetworkNode } from '../net/index.ts';
import { createAddressRecord } from '../records/index.ts';
import { utf8 } from '../util/bytes.ts';
import { hasCode } from '../util/errors.ts';
import { createMemoryLogger } from '../util/log.ts';
import { HOUR } from '../util/time.ts';
import { AlwaysOnNode } from './always-on-node.ts';
import type { NetworkSummary } from './always-on-node.ts';
import { HOST_PROTOCOL, LOCAL_HOST, MAX_HOST_MESSAGE_BYTES } from './constants.ts';
import { DataDir } from './data-dir.ts';
import { HostMessageMalformedError, HostRefusedError } from './errors.ts';
import { decodeHostResponse, requestHostedNetwork } from './host-protocol.ts';
import { createFrontDoorClient, nextEvent, tempDir } from './test-helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

async function startNode(dataDir: string, open: boolean): Promise<AlwaysOnNode> {
  const node = new AlwaysOnNode({ dataDir, settings: { host: LOCAL_HOST, open } });
  await node.start();
  cleanups.push(() => node.stop());
  return node;
}

async function dataDir(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

function wsAddress(addresses: readonly string[]): string {
  const address = addresses.find((a) => a.includes('/ws/'));
  if (address === undefined) throw new Error(`no WebSockets address in ${addresses.join(', ')}`);
  return address;
}

function listenPorts(summary: NetworkSummary): number[] {
  return [...new Set(summary.addresses.map((a) => Number(a.split('/')[4])))];
}

async function frontDoorClient(): Promise<Libp2p> {
  const client = await createFrontDoorClient();
  cleanups.push(async () => client.stop());
  return client;
}

/** A device of a network (what a browser runs), bootstrapped from an invite's addresses. */
async function device(networkId: string, bootstrap: readonly string[], secret?: Uint8Array): Promise<NetworkNode> {
  const node = await createNetworkNode({
    network: { id: networkId, bootstrap, ...(secret === undefined ? {} : { secret }) },
    peerKey: await createPeerKey(),
    allowLocalAddresses: true,
    transports: { webRTC: false, webTransport: false },
    rtcConfiguration: { bindAddress: LOCAL_HOST },
    bootstrapOnStart: false,
    log: createMemoryLogger(),
  });
  cleanups.push(() => node.stop());
  expect(await node.bootstrap()).toBeGreaterThan(0);
  return node;
}

/** Writes one raw frame on the host protocol and returns the decoded answer (or its thrown error). */
async function rawExchange(client: Libp2p, address: string, frame: Uint8Array): Promise<unknown> {
  const stream = await client.dialProtocol(multiaddr(address), HOST_PROTOCOL);
  const lp = lpStream(stream, { maxDataLength: MAX_HOST_MESSAGE_BYTES });
  stream.send(frame);
  try {
    return decodeHostResponse((await lp.read()).subarray());
  } catch (error) {
    return error;
  } finally {
    stream.abort(new Error('done'));
  }
}

function frame(body: Uint8Array | string): Uint8Array {
  const bytes = typeof body === 'string' ? utf8(body) : body;
  const prefix: number[] = [];
  let n = bytes.length;
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  prefix.push(n);
  return Uint8Array.from([...prefix, ...bytes]);
}

describe('always-on node', () => {
  it('restarts from its data directory with the same PeerIds, ports and networks', async () => {
    // In one process: libjuice keeps WebRTC-direct UDP ports bound until exit, so the second run
    // serves WebSockets only (cli.test.ts restarts the process and compares every address).
    const dir = await dataDir();
    const first = await startNode(dir, false);
    const open = await first.createNetwork({ name: 'Open one' });
    const closed = await first.createNetwork({ name: 'Closed one', closed: true });
    const frontDoor = first.frontDoorAddresses();
    expect(frontDoor.length).toBeGreaterThan(0);
    expect(listenPorts(open)).toEqual([open.port]);
    await first.stop();

    // The lock is released: a second node can take the directory.
    const second = await startNode(dir, false);
    const networks = await second.networks();
    expect(networks.map((n) => [n.id, n.name, n.peerId, n.port, n.closed, n.running])).toEqual([
      [open.id, 'Open one', open.peerId, open.port, false, true],
      [closed.id, 'Closed one', closed.peerId, closed.port, true, true],
    ]);
    for (const [network, before] of [[networks[0]!, open], [networks[1]!, closed]] as const) {
      expect(listenPorts(network)).toEqual([network.port]);
      expect(second.networkNode(network.id)?.peerId.toString()).toBe(network.peerId);
      expect(wsAddress(network.addresses)).toBe(wsAddress(before.addresses));
    }
    expect(wsAddress(second.frontDoorAddresses())).toBe(wsAddress(frontDoor));
    // The closed network keeps its secret: the invite still decodes to the same one.
    expect(decodeInvite(networks[1]!.invite).secret).toEqual(decodeInvite(closed.invite).secret);
  });

  it('refuses a second node on a data directory in use', async () => {
    const dir = await dataDir();
    await startNode(dir, false);
    const other = new AlwaysOnNode({ dataDir: dir, settings: { host: LOCAL_HOST }, frontDoor: false });
    await expect(other.start()).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
  });

  it('starts a network that another process adds to its data directory, and stops one it leaves', async () => {
    const dir = await dataDir();
    const node = await startNode(dir, false);
    const offline = await DataDir.open(dir); // what `p2pb-node create` does
    const started = nextEvent<NetworkSummary>(node, 'network:started');
    const entry = await offline.addNetwork({ name: 'Added offline', origin: 'created' });
    expect((await started).id).toBe(entry.id);
    expect(node.networkNode(entry.id)?.peerId.toString()).toBe(entry.peerId);

    const stopped = nextEvent<{ id: string }>(node, 'network:stopped');
    await offline.removeNetwork(entry.id); // what `p2pb-node leave` does
    expect((await stopped).id).toBe(entry.id);
    expect(node.networkNode(entry.id)).toBeUndefined();
  });
});

describe('front door', () => {
  it('hosts a closed network on an --open node, and members resolve each other through it', async () => {
    const node = await startNode(await dataDir(), true);
    const client = await frontDoorClient();
    const networkId = createNetworkId();
    const secret = createNetworkSecret();
    const hosted = nextEvent<NetworkSummary>(node, 'network:hosted');
    const answer = await requestHostedNetwork(client, wsAddress(node.frontDoorAddresses()), {
      networkId,
      name: 'Browser-made',
      secret,
      settings: { dhtKBucketSize: 20 },
    });
    expect(answer.created).toBe(true);
    expect((await hosted).id).toBe(networkId);
    const served = node.networkNode(networkId)!;
    expect(answer.bootstrap.every((a) => a.endsWith(`/p2p/${served.peerId}`))).toBe(true);

    // Asking again for the same network is answered with the same node, not a second one.
    const again = await requestHostedNetwork(client, wsAddress(node.frontDoorAddresses()), {
      networkId,
      name: 'Browser-made',
      secret,
    });
    expect(again).toMatchObject({ created: false, bootstrap: answer.bootstrap });

    // Two members join from the node's addresses; one publishes, the other resolves through the node.
    const alice = await device(networkId, answer.bootstrap, secret);
    const bob = await device(networkId, answer.bootstrap, secret);
    const identity = await generateKeyPair();
    const record = await createAddressRecord({
      networkId,
      servedBy: [{ kind: 'device', peerId: alice.peerId.toString(), multiaddrs: [] }],
      sequence: 1,
      expiresAt: Date.now() + HOUR,
      secretKey: identity.secretKey,
    });
    const published = await alice.publish(record);
    expect(published.peers).toBeGreaterThan(0);
    expect((await served.getStoredRecord(identity.publicKey))?.sequence).toBe(1);
    const resolved = await bob.resolve(identity.publicKey);
    expect(resolved.servedBy[0]?.peerId).toBe(alice.peerId.toString());
  });

  it('refuses to host on a node that is not --open, with HOST_REFUSED', async () => {
    const node = await startNode(await dataDir(), false);
    const client = await frontDoorClient();
    const request = requestHostedNetwork(client, wsAddress(node.frontDoorAddresses()), {
      networkId: createNetworkId(),
      name: 'Nope',
    });
    await expect(request).rejects.toBeInstanceOf(HostRefusedError);
    await expect(request).rejects.toMatchObject({ code: 'HOST_REFUSED' });
    expect(await node.networks()).toEqual([]);
  });

  it('answers malformed, oversized, unknown and other-version messages with named errors', async () => {
    const node = await startNode(await dataDir(), true);
    const client = await frontDoorClient();
    const address = wsAddress(node.frontDoorAddresses());
    const codeOf = async (bytes: Uint8Array) => {
      const error = await rawExchange(client, address, bytes);
      return hasCode(error, '') ? '' : (error as { code?: string }).code;
    };

    expect(await codeOf(frame('{not json'))).toBe('HOST_MESSAGE_MALFORMED');
    expect(await codeOf(frame(Uint8Array.of(0xff, 0xfe)))).toBe('HOST_MESSAGE_MALFORMED');
    expect(await codeOf(frame('{"v":1,"type":"create-network","networkId":"short","name":"x","closed":false}'))).toBe(
      'HOST_MESSAGE_MALFORMED',
    );
    expect(
      await codeOf(frame(JSON.stringify({ v: 1, type: 'create-network', networkId: createNetworkId(), name: 'x', closed: true }))),
    ).toBe('HOST_MESSAGE_MALFORMED'); // closed without a secret
    expect(await codeOf(frame('{"v":1,"type":"delete-everything"}'))).toBe('HOST_UNKNOWN_MESSAGE');
    expect(await codeOf(frame('{"v":2,"type":"create-network"}'))).toBe('HOST_UNSUPPORTED_VERSION');
    // A length prefix over the limit is refused before the body is read (only a few bytes follow).
    const oversized = frame(new Uint8Array(MAX_HOST_MESSAGE_BYTES + 1)).subarray(0, 16);
    expect(await codeOf(oversized)).toBe('HOST_MESSAGE_TOO_LARGE');

    const malformed = await rawExchange(client, address, frame('[]'));
    expect(malformed).toBeInstanceOf(HostMessageMalformedError);
    expect(await node.networks()).toEqual([]);
  });
});
