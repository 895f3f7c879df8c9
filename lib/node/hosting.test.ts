/**
 * Delegated hosting over real libp2p (memory transport): the host follows the delegating
 * identity, serves its feeds when the author is gone, keeps delegations across a restart, and
 * refuses replayed, misdirected and expired delegations.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createNetworkId } from '../net/index.ts';
import { createHostingDelegation } from '../records/index.ts';
import { createMemoryLogger } from '../util/log.ts';
import { SyncRefusedError } from '../sync/errors.ts';
import { bootstrapNode, started, startPeer, stored, textOf, textUpdate } from '../sync/test-support.ts';
import { FeedHosting } from './hosting.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).reverse().map((p) => p.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function host(networkId: string) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'p2pb-hosting-'));
  dirs.push(dataDir);
  const node = await bootstrapNode(networkId);
  const hosting = new FeedHosting({ dataDir, log: createMemoryLogger() });
  await hosting.start();
  await hosting.attach(networkId, node);
  started.push({ stop: () => hosting.stop() });
  return { node, hosting, dataDir };
}

async function refusal(action: Promise<unknown>): Promise<string> {
  try {
    await action;
  } catch (error) {
    expect(error).toBeInstanceOf(SyncRefusedError);
    return (error as SyncRefusedError).remoteCode;
  }
  throw new Error('expected a refusal');
}

describe('delegated hosting', () => {
  it('hosts a delegating identity: follows it, and serves its feeds after the author is gone', async () => {
    const networkId = createNetworkId();
    const { node, hosting, dataDir } = await host(networkId);
    const bootstrap = node.getMultiaddrs().map(String);
    const a = await startPeer(networkId, bootstrap);
    const feed = `${a.identity}/posts`;
    const doc = new Y.Doc();
    await a.library.write(a.identity, 'posts', textUpdate('first ', doc));

    const delegation = await createHostingDelegation({
      signer: a.signer,
      networkId,
      hostPeerId: node.peerId.toString(),
      action: 'host',
      sequence: 1,
      expiresAt: Date.now() + 60_000,
    });
    const fetched = stored(hosting.library, feed, 1);
    await a.sync.delegate(node.peerId, delegation);
    await fetched;
    expect(hosting.hosted(networkId)).toEqual([a.identity]);
    // The host keeps following: a new envelope is pushed to it.
    const pushed = stored(hosting.library, feed, 2);
    await a.library.write(a.identity, 'posts', textUpdate('second', doc));
    await pushed;
    // The record lists the host; then the author's browser closes.
    await a.publish([{ kind: 'host', peerId: node.peerId.toString(), multiaddrs: [] }], 2);
    await a.stop();

    const c = await startPeer(networkId, bootstrap);
    const result = await c.sync.fetch(a.identity);
    expect(result.from).toBe(node.peerId.toString());
    expect(await textOf(c.library, feed)).toBe('first second');
    // Hosted feeds are the node's to keep: never evicted as a cache.
    expect((await hosting.library.store.feed(feed))?.ownership).toBe('own');

    // A restart keeps the delegation (and so the hosting).
    await hosting.stop();
    const again = new FeedHosting({ dataDir, log: createMemoryLogger() });
    await again.start();
    started.push({ stop: () => again.stop() });
    expect(again.hosted(networkId)).toEqual([a.identity]);
    expect((await again.library.head(feed))?.seq).toBe(2);
  }, 60_000);

  it('refuses delegations for another host or network, expired ones, and replays of a revoked one', async () => {
    const networkId = createNetworkId();
    const { node, hosting } = await host(networkId);
    const a = await startPeer(networkId, node.getMultiaddrs().map(String));
    const make = (fields: Partial<Parameters<typeof createHostingDelegation>[0]>) =>
      createHostingDelegation({
        signer: a.signer,
        networkId,
        hostPeerId: node.peerId.toString(),
        action: 'host',
        sequence: 5,
        expiresAt: Date.now() + 60_000,
        ...fields,
      } as Parameters<typeof createHostingDelegation>[0]);
    expect(await refusal(a.sync.delegate(node.peerId, await make({ hostPeerId: a.node.peerId.toString() })))).toBe('DELEGATION_REFUSED');
    expect(await refusal(a.sync.delegate(node.peerId, await make({ networkId: createNetworkId() })))).toBe('DELEGATION_REFUSED');
    expect(await refusal(a.sync.delegate(node.peerId, await make({ expiresAt: Date.now() - 1 })))).toBe('DELEGATION_REFUSED');
    expect(await refusal(a.sync.delegate(node.peerId, new Uint8Array([1, 2, 3])))).toBe('DELEGATION_REFUSED');
    expect(hosting.hosted(networkId)).toEqual([]);

    const delegation = await make({});
    await a.sync.delegate(node.peerId, delegation);
    expect(hosting.hosted(networkId)).toEqual([a.identity]);
    await a.sync.delegate(node.peerId, await make({ action: 'revoke', sequence: 6 }));
    expect(hosting.hosted(networkId)).toEqual([]);
    // The old delegation, replayed, does not bring hosting back.
    expect(await refusal(a.sync.delegate(node.peerId, delegation))).toBe('DELEGATION_REFUSED');
    expect(hosting.hosted(networkId)).toEqual([]);
    // A browser is not a host.
    const b = await startPeer(networkId, node.getMultiaddrs().map(String));
    expect(await refusal(a.sync.delegate(b.node.peerId, delegation))).toBe('NOT_A_HOST');
  }, 30_000);
});
