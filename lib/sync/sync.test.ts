/**
 * Sync over real libp2p (memory transport): push within a subscription, pull in batches,
 * re-serving from a cache when the author is gone, resuming after a reconnect, members only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createNetworkId, createNetworkNode, createPeerKey, createNetworkSecret } from '../net/index.ts';
import { memoryNodeConfig } from '../net/test-support.ts';
import { requestPull } from './peer.ts';
import { bootstrapNode, started, startPeer, stored, textOf, textUpdate } from './test-support.ts';

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

/** A network (one bootstrap node) with two devices in it, A and B. */
async function twoPeers() {
  const networkId = createNetworkId();
  const boot = await bootstrapNode(networkId);
  const bootstrap = boot.getMultiaddrs().map(String);
  const a = await startPeer(networkId, bootstrap);
  const b = await startPeer(networkId, bootstrap);
  return { networkId, bootstrap, a, b };
}

describe('feed sync between peers', () => {
  it('pushes a new envelope to a follower, and a fresh peer gets the feed from a cache when the author is gone', async () => {
    const { networkId, bootstrap, a, b } = await twoPeers();
    const feed = `${a.identity}/posts`;
    const doc = new Y.Doc();
    await a.library.write(a.identity, 'posts', textUpdate('hello ', doc));

    const follow = b.sync.follow(a.identity);
    await follow.ready;
    expect(follow.peer).toBe(a.node.peerId.toString());
    expect(await textOf(b.library, feed)).toBe('hello ');

    // Push: B stores A's next envelope without asking.
    const arrived = stored(b.library, feed, 2);
    await a.library.write(a.identity, 'posts', textUpdate('world', doc));
    const elapsed = await arrived;
    expect(elapsed).toBeLessThan(1000);
    expect(await textOf(b.library, feed)).toBe('hello world');

    // A leaves for good. C, new, finds B through the DHT provider records and reads A's feed.
    follow.stop();
    await a.stop();
    const c = await startPeer(networkId, bootstrap);
    const result = await c.sync.fetch(a.identity);
    expect(result.from).toBe(b.node.peerId.toString());
    expect(result.feeds.map((f) => f.head?.seq)).toEqual([2]);
    expect(await textOf(c.library, feed)).toBe('hello world');
  }, 60_000);

  it('a one-off read goes to a cache holder rather than the author, so a popular author is not everyone\'s server', async () => {
    const { networkId, bootstrap, a, b } = await twoPeers();
    const feed = `${a.identity}/posts`;
    await a.library.write(a.identity, 'posts', textUpdate('viral'));
    expect((await b.sync.fetch(a.identity)).from).toBe(a.node.peerId.toString()); // the only holder
    const c = await startPeer(networkId, bootstrap);
    // B announced what it cached; C reads from B although A is online.
    await expect.poll(async () => (await c.node.findProviders(new TextEncoder().encode(`/p2pb-feeds/${a.identity}`))).map((p) => p.id.toString()), { timeout: 10_000 }).toContain(b.node.peerId.toString());
    const result = await c.sync.fetch(a.identity);
    expect(result.from).toBe(b.node.peerId.toString());
    expect(await textOf(c.library, feed)).toBe('viral');
    // Following still goes to the source, for the freshest envelopes pushed as they are made.
    const follow = c.sync.follow(a.identity);
    await follow.ready;
    expect(follow.peer).toBe(a.node.peerId.toString());
    follow.stop();
  }, 30_000);

  it('pulls a long feed in bounded batches, and resumes a subscription after a disconnect', async () => {
    const { networkId, bootstrap, a, b } = await twoPeers();
    const feed = `${a.identity}/log`;
    const doc = new Y.Doc();
    for (let i = 0; i < 300; i++) await a.library.write(a.identity, 'log', textUpdate(`${i};`, doc));

    // One pull answer is one bounded batch…
    const batch = await requestPull(await b.sync.openStream(a.node.peerId), feed, 0);
    expect(batch.run?.entries.length).toBe(256);
    expect(batch.head?.seq).toBe(300);
    // …and pull() keeps asking until it reaches the holder's head.
    const pulled = await b.sync.pull(a.node.peerId, feed);
    expect(pulled.head?.seq).toBe(300);

    const follow = b.sync.follow(a.identity);
    await follow.ready;
    // Cut every connection between them; the subscription comes back by itself.
    await a.node.libp2p.hangUp(b.node.peerId);
    const arrived = stored(b.library, feed, 301, 20_000);
    await a.library.write(a.identity, 'log', textUpdate('after;', doc));
    await arrived;
    expect((await textOf(b.library, feed)).endsWith('299;after;')).toBe(true);
    follow.stop();
  }, 60_000);

  it('compacts: after 100 envelopes the author snapshots and prunes, and a new reader pulls the snapshot and the rest', async () => {
    const networkId = createNetworkId();
    const boot = await bootstrapNode(networkId);
    const bootstrap = boot.getMultiaddrs().map(String);
    const a = await startPeer(networkId, bootstrap, { compactEvery: 100 });
    const feed = `${a.identity}/log`;
    const doc = new Y.Doc();
    const snapshotted = new Promise<void>((resolve) => {
      const check = async () => ((await a.library.store.feed(feed))?.snapshotSeq ?? 0) >= 100 && resolve();
      a.library.onEnvelope(() => void check());
    });
    for (let i = 0; i < 130; i++) await a.library.write(a.identity, 'log', textUpdate(`${i};`, doc));
    await snapshotted;
    const info = await a.library.store.feed(feed);
    expect(info?.firstSeq).toBeGreaterThan(100); // the envelopes the snapshot covers are gone
    const b = await startPeer(networkId, bootstrap);
    const pulled = await b.sync.pull(a.node.peerId, feed);
    expect(pulled.head?.seq).toBe(130);
    expect(await textOf(b.library, feed)).toBe(Array.from({ length: 130 }, (_, i) => `${i};`).join(''));
    expect((await b.library.store.feed(feed))?.snapshotSeq).toBeGreaterThanOrEqual(100);
  }, 30_000);

  it('refuses a forged envelope pushed by a holder, and keeps what it had', async () => {
    const { networkId, bootstrap, a, b } = await twoPeers();
    const feed = `${a.identity}/posts`;
    await a.library.write(a.identity, 'posts', textUpdate('real'));
    await b.sync.pull(a.node.peerId, feed);
    // A forged second envelope: the real one with its last signature byte flipped.
    const real = await a.library.pull(feed, 0, 1);
    const forged = real.envelopes[0]!.slice();
    forged[forged.length - 1]! ^= 1;
    const result = await b.library.receive(feed, { snapshot: null, envelopes: [forged] });
    expect(result.appended).toBe(0);
    expect((await b.library.head(feed))?.seq).toBe(1);
    expect(await textOf(b.library, feed)).toBe('real');
  }, 30_000);

  /** A dishonest cache: from envelope 2 on, what it serves of any feed has its signature's last byte flipped. */
  const flipFrom2 = (_feed: string, seq: number, bytes: Uint8Array) => {
    if (seq < 2) return bytes;
    const out = bytes.slice();
    out[out.length - 1]! ^= 1;
    return out;
  };

  it('leaves a holder that pushes a tampered envelope for another, which brings the real one', async () => {
    const { networkId, bootstrap, a, b } = await twoPeers();
    const m = await startPeer(networkId, bootstrap, { tamper: flipFrom2 });
    const feed = `${a.identity}/posts`;
    const doc = new Y.Doc();
    await a.library.write(a.identity, 'posts', textUpdate('one ', doc));
    const cached = m.sync.follow(a.identity);
    await cached.ready;
    // B follows A through M (as if M were where B first found A's feed).
    const follow = b.sync.follow(a.identity, { hint: m.node.peerId });
    await follow.ready;
    expect(follow.peer).toBe(m.node.peerId.toString());
    expect(await textOf(b.library, feed)).toBe('one ');

    // A writes; M pushes it to B tampered: B refuses it, leaves M, and gets it from A.
    const arrived = stored(b.library, feed, 2, 20_000);
    await a.library.write(a.identity, 'posts', textUpdate('two', doc));
    await arrived;
    expect(await textOf(b.library, feed)).toBe('one two');
    await expect.poll(() => follow.peer, { timeout: 10_000 }).toBe(a.node.peerId.toString());
    follow.stop();
    cached.stop();
  }, 60_000);

  it('a one-off read keeps what verified from a dishonest holder and does not count it as found', async () => {
    const { networkId, bootstrap, a } = await twoPeers();
    const m = await startPeer(networkId, bootstrap, { tamper: flipFrom2 });
    const feed = `${a.identity}/posts`;
    const doc = new Y.Doc();
    await a.library.write(a.identity, 'posts', textUpdate('one ', doc));
    await a.library.write(a.identity, 'posts', textUpdate('two', doc));
    expect((await m.sync.fetch(a.identity)).feeds.map((f) => f.head?.seq)).toEqual([2]);
    await a.stop();
    // M is the only holder left, and serves envelope 2 tampered.
    const d = await startPeer(networkId, bootstrap);
    await expect.poll(async () => (await d.node.findProviders(new TextEncoder().encode(`/p2pb-feeds/${a.identity}`))).map((p) => p.id.toString()), { timeout: 10_000 }).toContain(m.node.peerId.toString());
    await expect(d.sync.fetch(a.identity)).rejects.toMatchObject({ code: 'FEED_NOT_FOUND' });
    expect((await d.library.head(feed))?.seq).toBe(1);
    expect(await textOf(d.library, feed)).toBe('one ');
  }, 60_000);

  it('serves a closed network to members only', async () => {
    const networkId = createNetworkId();
    const secret = createNetworkSecret();
    const boot = await bootstrapNode(networkId, secret);
    const bootstrap = boot.getMultiaddrs().map(String);
    const a = await startPeer(networkId, bootstrap, { secret });
    await a.library.write(a.identity, 'posts', textUpdate('members only'));
    // A node with the network id but without the secret: every connection fails the handshake.
    const outsider = await createNetworkNode({ ...memoryNodeConfig(networkId), network: { id: networkId }, peerKey: await createPeerKey() });
    started.push({ stop: () => outsider.stop() });
    let error: unknown;
    try {
      await outsider.libp2p.dialProtocol(a.node.getMultiaddrs()[0]!, a.sync.protocol, { signal: AbortSignal.timeout(5000) });
    } catch (e) {
      error = e;
    }
    // A different network key means a different Noise prologue: the handshake itself fails.
    expect((error as Error)?.name).toBe('EncryptionFailedError');
    expect(await a.library.head(`${a.identity}/posts`)).not.toBeNull();
  }, 30_000);
});

