/**
 * Helpers for lib/net's tests and benchmarks: networks of real nodes on the in-process memory
 * transport, waiting for node events, and raw Kademlia requests (what a misbehaving peer sends).
 * Not part of the public face (index.ts).
 */
import { Libp2pRecord } from '@libp2p/record';
import type { ComponentLogger, Logger as Libp2pLogger, PeerId } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { concatBytes } from '../util/bytes.ts';
import { createMemoryLogger } from '../util/log.ts';
import type { EngineSettings } from './invite.ts';
import { dhtProtocol } from './network-id.ts';
import { createNetworkNode, createPeerKey } from './node.ts';
import type { NetworkNode, NetworkNodeConfig, NetworkNodeEvents } from './node.ts';

let memoryAddressCounter = 0;
const processTag = Math.random().toString(36).slice(2, 10);

/** A memory-transport listen address unique within this process. */
export function memoryAddress(label = 'node'): string {
  return `/memory/${label}-${processTag}-${++memoryAddressCounter}`;
}

const silent: Libp2pLogger = Object.assign(() => {}, {
  error: () => {},
  trace: () => {},
  enabled: false,
  newScope: (): Libp2pLogger => silent,
});

/**
 * A libp2p logger that writes nothing. libp2p's default one builds a debug instance for every
 * component and stream (and asks the terminal about colours each time); with dozens of nodes in
 * one process that is a tenth of the CPU.
 */
export const silentLogger: ComponentLogger = { forComponent: () => silent };

/** Node options for loopback tests: memory transport only, local addresses allowed, quiet logs. */
export function memoryNodeConfig(networkId: string, overrides: Partial<NetworkNodeConfig> = {}): Omit<NetworkNodeConfig, 'peerKey'> {
  return {
    network: { id: networkId },
    listen: [memoryAddress(networkId.slice(0, 6))],
    transports: { memory: true, webSockets: false, webRTCDirect: false, circuitRelay: false },
    allowLocalAddresses: true,
    clientMode: false,
    log: createMemoryLogger(),
    logger: silentLogger,
    ...overrides,
  };
}

/** Resolves when the node's DHT has finished its first self-query (its routing table is usable). */
export function firstSelfQuery(node: NetworkNode, timeout = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no self-query within ${timeout} ms`)), timeout);
    (node.libp2p as unknown as EventTarget).addEventListener(
      'kad-dht:query:self',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Starts `count` DHT-server nodes of one network on the memory transport: node 0 first, then
 * the others with node 0 as bootstrap peer. Resolves once every node has bootstrapped and run
 * its first self-query.
 */
export async function startMemoryNetwork(
  count: number,
  options: { networkId: string; secret?: Uint8Array; settings?: EngineSettings; overrides?: Partial<NetworkNodeConfig> },
): Promise<NetworkNode[]> {
  const network = { id: options.networkId, secret: options.secret, settings: options.settings };
  const make = async (bootstrap: string[]) => {
    const node = await createNetworkNode({
      ...memoryNodeConfig(options.networkId, options.overrides),
      network: { ...network, bootstrap },
      peerKey: await createPeerKey(),
    });
    return { node, ready: firstSelfQuery(node) };
  };
  const first = await make([]);
  const bootstrap = first.node.getMultiaddrs().map(String);
  const rest = [];
  for (let i = 1; i < count; i++) rest.push(await make(bootstrap));
  const all = [first, ...rest];
  await Promise.all(all.map(({ ready }) => ready));
  return all.map(({ node }) => node);
}

export async function stopAll(nodes: Iterable<NetworkNode | undefined>): Promise<void> {
  await Promise.all([...nodes].map((node) => node?.stop()));
}

/**
 * The next event `type` from `node` whose detail passes `filter`; rejects after `timeout` ms.
 * Call it before the action that causes the event.
 */
export function nextEvent<K extends keyof NetworkNodeEvents>(
  node: NetworkNode,
  type: K,
  filter: (detail: NetworkNodeEvents[K]) => boolean = () => true,
  timeout = 10_000,
): Promise<NetworkNodeEvents[K]> {
  return new Promise((resolve, reject) => {
    const listener = (event: Event) => {
      const detail = (event as CustomEvent<NetworkNodeEvents[K]>).detail;
      if (!filter(detail)) return;
      clearTimeout(timer);
      node.removeEventListener(type, listener);
      resolve(detail);
    };
    const timer = setTimeout(() => {
      node.removeEventListener(type, listener);
      reject(new Error(`no ${type} event within ${timeout} ms`));
    }, timeout);
    node.addEventListener(type, listener);
  });
}

// ---------------------------------------------------------------------------------------------
// Raw Kademlia messages (dht.proto: type = 1, key = 2, record = 3; PUT_VALUE = 0, GET_VALUE = 1)

function varint(value: number): Uint8Array {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Uint8Array.from(out);
}

function bytesField(field: number, bytes: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of((field << 3) | 2), varint(bytes.length), bytes);
}

/** A PUT_VALUE request carrying `value` under `key`, as any peer could send it. */
export function putValueMessage(key: Uint8Array, value: Uint8Array): Uint8Array {
  const record = new Libp2pRecord(key, value, new Date()).serialize();
  return concatBytes(Uint8Array.of(0x08, 0x00), bytesField(2, key), bytesField(3, record));
}

/** A GET_VALUE request for `key`. */
export function getValueMessage(key: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(0x08, 0x01), bytesField(2, key));
}

/** A FIND_NODE request for `key`. */
export function findNodeMessage(key: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(0x08, 0x04), bytesField(2, key));
}

/**
 * Sends one raw request on the network's DHT protocol from `from` to `to` and returns the raw
 * response; rejects when the remote resets the stream (how kad-dht refuses a request).
 */
export async function rawDhtRequest(
  from: NetworkNode,
  to: PeerId,
  message: Uint8Array,
  options: { signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const signal = options.signal ?? AbortSignal.timeout(10_000);
  const stream = await from.libp2p.dialProtocol(to, dhtProtocol(from.networkId), { signal });
  try {
    const lp = lpStream(stream);
    await lp.write(message, { signal });
    const response = await lp.read({ signal });
    await stream.close({ signal }).catch(() => {});
    return response.subarray();
  } catch (error) {
    stream.abort(error as Error);
    throw error;
  }
}

/** True when `haystack` contains the bytes of `needle`. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}


/** Resolves once `predicate(node)` holds, checked now and on every change of the node's own addresses. */
export function untilSelfUpdate(node: NetworkNode, predicate: (node: NetworkNode) => boolean, timeout = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = node.libp2p as unknown as EventTarget;
    const check = () => {
      if (!predicate(node)) return;
      clearTimeout(timer);
      target.removeEventListener('self:peer:update', check);
      resolve();
    };
    const timer = setTimeout(() => {
      target.removeEventListener('self:peer:update', check);
      reject(new Error(`condition not met within ${timeout} ms`));
    }, timeout);
    target.addEventListener('self:peer:update', check);
    check();
  });
}
