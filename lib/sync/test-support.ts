/**
 * Helpers for sync tests over real libp2p (memory transport): devices with a store, a library
 * and a FeedSync; waiting for envelopes; text documents. Not part of the public face.
 */
import * as Y from 'yjs';
import { createSigningKey, encodePublicKey, generateKeyPair } from '../identity/index.ts';
import type { SigningKey } from '../identity/index.ts';
import { createAddressRecord } from '../records/index.ts';
import type { ServedBy } from '../records/index.ts';
import { MemoryFeedStore } from '../store/index.ts';
import { createMemoryLogger } from '../util/log.ts';
import { createNetworkNode, createPeerKey, DEFAULT_ADDRESS_RECORD_TTL } from '../net/index.ts';
import type { NetworkNode } from '../net/index.ts';
import { firstSelfQuery, memoryNodeConfig } from '../net/test-support.ts';
import { FeedLibrary } from './library.ts';
import { FeedSync } from './sync.ts';

export interface Peer {
  node: NetworkNode;
  library: FeedLibrary;
  sync: FeedSync;
  identity: string;
  signer: SigningKey;
  /** Publishes the identity's address record: this device, plus `extra` (hosts). */
  publish(extra?: ServedBy[], sequence?: number): Promise<void>;
  stop(): Promise<void>;
}

export const started: Array<{ stop(): Promise<void> }> = [];

export interface PeerOptions {
  secret?: Uint8Array;
  publish?: boolean;
  compactEvery?: number;
  /** A dishonest holder: what it serves (pushes and pulls) is `tamper`'s version of each envelope. */
  tamper?: (feed: string, seq: number, bytes: Uint8Array) => Uint8Array;
}

export async function startPeer(networkId: string, bootstrap: string[], options: PeerOptions = {}): Promise<Peer> {
  const { secretKey } = await generateKeyPair();
  const signer = await createSigningKey(secretKey);
  const identity = encodePublicKey(signer.publicKey);
  const node = await createNetworkNode({
    ...memoryNodeConfig(networkId),
    network: { id: networkId, bootstrap, ...(options.secret ? { secret: options.secret } : {}) },
    peerKey: await createPeerKey(),
  });
  const ready = bootstrap.length > 0 ? firstSelfQuery(node) : Promise.resolve();
  const store = new MemoryFeedStore();
  await store.start();
  const log = createMemoryLogger();
  const library = new FeedLibrary({ store, signerFor: (a) => (a === identity ? signer : undefined), keeps: (a) => a === identity, log, ...(options.compactEvery === undefined ? {} : { compactEvery: options.compactEvery }) });
  if (options.tamper) serveTampered(library, options.tamper);
  const seen = new Set<string>();
  const sync = new FeedSync({
    node,
    library,
    log,
    serves: (feed) => feed.startsWith(`${identity}/`) || seen.has(feed),
    received: (feed) => seen.add(feed),
  });
  await sync.start();
  await ready;
  const publish = async (extra: ServedBy[] = [], sequence = 1) => {
    const record = await createAddressRecord({
      secretKey,
      networkId,
      servedBy: [{ kind: 'device', peerId: node.peerId.toString(), multiaddrs: node.getMultiaddrs().map((ma) => ma.decapsulateCode(421).toString()) }, ...extra],
      sequence,
      expiresAt: Date.now() + DEFAULT_ADDRESS_RECORD_TTL,
    });
    await node.publish(record);
  };
  if (options.publish !== false && bootstrap.length > 0) await publish();
  let stopped = false;
  const peer: Peer = {
    node,
    library,
    sync,
    identity,
    signer,
    publish,
    async stop() {
      if (stopped) return;
      stopped = true;
      await sync.stop();
      await library.close();
      await node.stop();
      await store.stop();
    },
  };
  started.push(peer);
  return peer;
}

/** Makes `library` hand out `tamper`'s version of each envelope to whoever serves from it (its FeedSync). */
function serveTampered(library: FeedLibrary, tamper: NonNullable<PeerOptions['tamper']>): void {
  const onEnvelope = library.onEnvelope.bind(library);
  library.onEnvelope = (listener) => onEnvelope((feed, seq, bytes, local) => listener(feed, seq, tamper(feed, seq, bytes), local));
  const pull = library.pull.bind(library);
  library.pull = async (id, after, limit, signal) => {
    const result = await pull(id, after, limit, signal);
    return { ...result, envelopes: result.envelopes.map((bytes, i) => tamper(id, after + 1 + i, bytes)) };
  };
}

export function textUpdate(text: string, doc = new Y.Doc()): Uint8Array {
  const before = Y.encodeStateVector(doc);
  doc.getText('t').insert(doc.getText('t').length, text);
  return Y.encodeStateAsUpdate(doc, before);
}

export async function textOf(library: FeedLibrary, feed: string): Promise<string> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, (await library.state(feed)).update);
  return doc.getText('t').toString();
}

/** Resolves when `library` stores envelope `seq` of `feed` (registered before the action). */
export function stored(library: FeedLibrary, feed: string, seq: number, timeout = 10_000): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`envelope ${seq} of ${feed} not stored within ${timeout} ms`));
    }, timeout);
    const off = library.onEnvelope((f, s) => {
      if (f === feed && s >= seq) {
        clearTimeout(timer);
        off();
        resolve(performance.now() - started);
      }
    });
  });
}

export async function bootstrapNode(networkId: string, secret?: Uint8Array): Promise<NetworkNode> {
  const node = await createNetworkNode({
    ...memoryNodeConfig(networkId),
    network: { id: networkId, ...(secret ? { secret } : {}) },
    peerKey: await createPeerKey(),
  });
  started.push({ stop: () => node.stop() });
  return node;
}

