import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MemoryKeyValueStore } from '../kv/index.ts';
import { toBase64url } from '../util/bytes.ts';
import { createMemoryLogger } from '../util/log.ts';
import { expectCode } from '../util/test-errors.ts';
import { createVault } from '../vault/index.ts';
import { createEngine, type Engine, type Signer } from './index.ts';
import { ProviderErrorCode } from '../protocol/index.ts';

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
});

async function engineWithIdentity() {
  const vault = createVault({ local: new MemoryKeyValueStore(), session: new MemoryKeyValueStore(), kdfIterations: 1000 });
  await vault.start();
  await vault.initialize('passphrase');
  const identity = await vault.createIdentity('Alice');
  const signer: Signer = {
    sign: (id, context, message) => vault.sign(id, context, message),
    identities: async () => vault.listIdentities().map((i) => ({ id: i.id, publicKey: i.publicKey, displayName: i.displayName, createdAt: i.createdAt })),
  };
  const engine = createEngine({ host: 'node' })({ signer, log: createMemoryLogger() });
  await engine.start();
  engines.push(engine);
  return { engine, alice: identity.publicKey };
}

const post = (id: string, fields: Record<string, unknown>) => {
  const doc = new Y.Doc();
  doc.getMap('items').set(id, fields);
  return toBase64url(Y.encodeStateAsUpdate(doc));
};

describe('engine feeds', () => {
  it('writes items to the identity feed and queries them back in the order of a sort', async () => {
    const { engine, alice } = await engineWithIdentity();
    await engine.handle('feed.write', { identity: alice, name: 'posts', update: post('p1', { ts: 10, text: 'first' }) });
    await engine.handle('feed.write', { identity: alice, name: 'posts', update: post('p2', { ts: 30, text: 'third' }) });
    await engine.handle('feed.write', { identity: alice, name: 'posts', update: post('p3', { ts: 20, text: 'second', replyTo: `${alice}/p1` }) });
    const newest = (await engine.handle('feed.query', { identity: alice, name: 'posts', sort: { id: 'chronological', keys: [{ field: 'ts', order: 'desc' }] } })) as { id: string }[];
    expect(newest.map((i) => i.id)).toEqual(['p2', 'p3', 'p1']);
    const conversations = (await engine.handle('feed.query', {
      identity: alice,
      name: 'posts',
      sort: { id: 'conversations', keys: [{ field: '$replies', order: 'desc' }, { field: 'ts', order: 'desc' }] },
      limit: 2,
    })) as { id: string; author: string; text: string }[];
    expect(conversations.map((i) => i.id)).toEqual(['p1', 'p2']);
    expect(conversations[0]).toMatchObject({ author: alice, text: 'first' });
    await expectCode(() => engine.handle('feed.query', { identity: alice, name: 'posts', sort: { id: 'x', keys: [{ field: 'ts', order: 'up' }] } }), 'INVALID_SORT');
  });

  it('a write that is not a Yjs update is refused by name and stores nothing', async () => {
    const { engine, alice } = await engineWithIdentity();
    await expectCode(() => engine.handle('feed.write', { identity: alice, name: 'posts', update: toBase64url(new Uint8Array([1, 2, 3, 4, 5])) }), 'MALFORMED_UPDATE');
    expect(await engine.handle('feed.query', { identity: alice, name: 'posts', sort: { id: 'c', keys: [{ field: 'ts', order: 'desc' }] } })).toEqual([]);
  });

  it('putItem sets one item without Yjs in the app, stamping ts when the app gave none', async () => {
    const { engine, alice } = await engineWithIdentity();
    const before = Date.now();
    expect(await engine.handle('feed.putItem', { identity: alice, name: 'posts', id: 'hello', item: { text: 'hi' } })).toEqual({ seq: 1 });
    expect(await engine.handle('feed.putItem', { identity: alice, name: 'posts', id: 'hello', item: { text: 'edited', ts: 5 } })).toEqual({ seq: 2 });
    await engine.handle('feed.putItem', { identity: alice, name: 'posts', id: 'later', item: { text: 'later' } });
    const items = (await engine.handle('feed.query', { identity: alice, name: 'posts', sort: { id: 'c', keys: [{ field: 'ts', order: 'desc' }] } })) as { id: string; text: string; ts: number }[];
    expect(items.map((i) => [i.id, i.text])).toEqual([['later', 'later'], ['hello', 'edited']]);
    expect(items[0]!.ts).toBeGreaterThanOrEqual(before);
  });
});

describe('resolving keys to identity statements', () => {
  /** An engine whose signer passes on each identity's signed statement, as the background does. */
  async function person(name: string) {
    const vault = createVault({ local: new MemoryKeyValueStore(), session: new MemoryKeyValueStore(), kdfIterations: 1000 });
    await vault.start();
    await vault.initialize('passphrase');
    const identity = await vault.createIdentity(name);
    const signer: Signer = {
      sign: (id, context, message) => vault.sign(id, context, message),
      identities: async () =>
        vault.listIdentities().map((i) => ({ id: i.id, publicKey: i.publicKey, displayName: i.displayName, createdAt: i.createdAt, statement: toBase64url(i.statement) })),
    };
    const engine = createEngine({ host: 'node' })({ signer, log: createMemoryLogger() });
    await engine.start();
    engines.push(engine);
    return { engine, vault, id: identity.id, key: identity.publicKey };
  }
  const profile = (key: string) => `${key}/identity/profile`;
  const names = async (engine: Engine, identity: string, keys: string[]) =>
    ((await engine.handle('feed.resolve', { identity, keys })) as { publicKey: string; statement: { displayName: string } | null; feeds: { name: string }[] }[]).map((r) => [
      r.publicKey,
      r.statement?.displayName ?? null,
      r.feeds.map((f) => f.name),
    ]);

  it('publishes each identity’s statement in its profile feed; another engine resolves the key to it, and to nothing forged', async () => {
    const alice = await person('Alice');
    const bob = await person('Bob');
    await expect.poll(async () => (await alice.engine.library.head(profile(alice.key)))?.seq).toBe(1);
    expect(await names(alice.engine, alice.key, [alice.key])).toEqual([[alice.key, 'Alice', ['identity/profile']]]);

    // Bob holds Alice's profile (as a peer would deliver it): resolved from his drive, verified.
    const deliver = async () => bob.engine.library.receive(profile(alice.key), await alice.engine.library.pull(profile(alice.key), 0, 100));
    await deliver();
    await expect.poll(async () => (await bob.engine.library.head(profile(bob.key)))?.seq).toBe(1);
    expect(await names(bob.engine, bob.key, [alice.key, bob.key, alice.key])).toEqual([
      [alice.key, 'Alice', ['identity/profile']],
      [bob.key, 'Bob', ['identity/profile']],
    ]);

    // A rename signs a newer statement, published when the engine next looks at its identities.
    await alice.vault.renameIdentity(alice.id, 'Alice Liddell');
    await alice.engine.handle('net.retry', undefined);
    await expect.poll(async () => (await alice.engine.library.head(profile(alice.key)))?.seq).toBe(2);
    await deliver();
    expect((await names(bob.engine, bob.key, [alice.key]))[0]![1]).toBe('Alice Liddell');

    // Alice's feed claiming Bob's statement resolves to nothing: a statement must be of its key.
    const bobStatement = (await bob.vault.listIdentities())[0]!.statement;
    await alice.engine.library.transact(alice.key, 'identity/profile', (doc) => doc.getMap('profile').set('statement', bobStatement));
    await deliver();
    expect((await names(bob.engine, bob.key, [alice.key]))[0]![1]).toBeNull();
  });

  it('a key nobody serves resolves to no statement; bad requests are refused by name', async () => {
    const bob = await person('Bob');
    const carol = await person('Carol');
    // No networks: Carol's profile is not on Bob's drive and nobody serves it.
    expect(await names(bob.engine, bob.key, [carol.key])).toEqual([[carol.key, null, []]]);
    for (const keys of [[], Array.from({ length: 65 }, () => carol.key), ['not a key'], [7]]) {
      await expect(bob.engine.handle('feed.resolve', { identity: bob.key, keys })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    }
  });
});
