/**
 * Moderation beneath the apps, in one engine (networks are covered by tests/e2e/moderation.e2e.ts):
 * a subscribed list hides a key's items from queries, refuses their envelopes, refuses reads,
 * says why; a punch-through brings them back; own entries publish as a list others can read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKeyValueStore } from '../kv/index.ts';
import { createMemoryLogger } from '../util/log.ts';
import { expectCode } from '../util/test-errors.ts';
import { createVault } from '../vault/index.ts';
import { writeListChanges } from '../moderation/index.ts';
import { createEngine, type Engine, type Signer } from './index.ts';
import { ProviderErrorCode } from '../protocol/index.ts';

const invalidParams = (action: Promise<unknown>) => expect(action).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });

const engines: Engine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
});

async function person(...names: string[]) {
  const vault = createVault({ local: new MemoryKeyValueStore(), session: new MemoryKeyValueStore(), kdfIterations: 1000 });
  await vault.start();
  await vault.initialize('passphrase');
  const keys: string[] = [];
  for (const name of names) keys.push((await vault.createIdentity(name)).publicKey);
  const signer: Signer = {
    sign: (id, context, message) => vault.sign(id, context, message),
    identities: async () => vault.listIdentities().map((i) => ({ id: i.id, publicKey: i.publicKey, displayName: i.displayName, createdAt: i.createdAt })),
  };
  const kv = new MemoryKeyValueStore();
  const engine = createEngine({ host: 'node' })({ signer, kv, log: createMemoryLogger() });
  await engine.start();
  engines.push(engine);
  return { engine, keys, kv, signer };
}

const CHRONOLOGICAL = { id: 'chronological', keys: [{ field: 'ts', order: 'desc' }] };

/** Everything `from` holds of `feed`, handed to `to` as a peer would (verified on receipt). */
async function deliver(from: Engine, to: Engine, feed: string) {
  const batch = await from.library.pull(feed, 0, 1000);
  return to.library.receive(feed, batch);
}

async function ids(engine: Engine, identity: string) {
  return ((await engine.handle('feed.query', { identity, name: 'posts', sort: CHRONOLOGICAL })) as { id: string }[]).map((i) => i.id);
}

describe('moderation in the engine', () => {
  it('a subscribed list hides a key everywhere: queries, receipts, reads; a punch-through lets it back', async () => {
    const { engine: alice, keys: [a, c] } = await person('Alice', 'Carol');
    const { engine: mallory, keys: [m] } = await person('Mallory');
    await mallory.handle('feed.putItem', { identity: m!, name: 'posts', id: 'm1', item: { text: 'buy now', ts: 10 } });
    await alice.handle('feed.putItem', { identity: a!, name: 'posts', id: 'a1', item: { text: 'hello', ts: 5 } });
    await alice.handle('feed.follow', { identity: a!, author: m! });
    expect((await deliver(mallory, alice, `${m}/posts`)).appended).toBe(1);
    expect(await ids(alice, a!)).toEqual(['m1', 'a1']);

    // Carol (another identity of this person, so the list is on this drive) curates a list.
    await writeListChanges({ transact: async (fn) => void (await alice.library.transact(c!, 'moderation/lists/spam', fn)) }, [
      { op: 'put', entry: { key: m!, kind: 'block', ts: 1, reason: 'spam' } },
    ]);
    const list = `${c}/moderation/lists/spam`;
    const preview = await alice.handle('mod.preview', { list });
    expect(preview).toMatchObject({ curator: c, blocks: 1, trusts: 0, subscribed: false, from: 'local' });
    expect(await ids(alice, a!)).toEqual(['m1', 'a1']); // a preview changes nothing

    expect(await alice.handle('mod.subscribe', { list })).toMatchObject({ list, status: 'ok', blocks: 1 });
    expect(await ids(alice, a!)).toEqual(['a1']);
    const hidden = await alice.handle('feed.hidden', { identity: a!, name: 'posts' });
    expect(hidden).toEqual([{ author: m, items: 1, because: expect.stringContaining('blocked by list moderation/lists/spam of curator') }]);
    const verdict = (await alice.handle('mod.explain', { key: m! })) as { decision: string; reasons: { kind: string; list?: string }[] };
    expect(verdict.decision).toBe('blocked');
    expect(verdict.reasons).toEqual([expect.objectContaining({ kind: 'list-block', list })]);

    // Nothing more of Mallory's is taken in, and reads of her feeds are refused by name.
    await mallory.handle('feed.putItem', { identity: m!, name: 'posts', id: 'm2', item: { text: 'again', ts: 20 } });
    const before = await alice.library.head(`${m}/posts`);
    await expectCode(() => deliver(mallory, alice, `${m}/posts`), 'KEY_BLOCKED');
    expect(await alice.library.head(`${m}/posts`)).toEqual(before);
    await expectCode(() => alice.handle('feed.read', { identity: a!, author: m!, name: 'posts' }), 'KEY_BLOCKED');

    // The person always wins: a punch-through shows her again and lets her data in.
    await alice.handle('mod.punch', { key: m!, allow: true });
    expect(await ids(alice, a!)).toEqual(['m1', 'a1']);
    expect((await deliver(mallory, alice, `${m}/posts`)).appended).toBe(1);
    expect(await ids(alice, a!)).toEqual(['m2', 'm1', 'a1']);
    expect(((await alice.handle('mod.explain', { key: m! })) as { decision: string }).decision).toBe('allowed');

    // Blocking her herself again ends the punch-through.
    await alice.handle('mod.set', { key: m!, kind: 'block', reason: 'no' });
    expect(await ids(alice, a!)).toEqual(['a1']);
    expect(((await alice.handle('mod.explain', { key: m! })) as { because: string }).because).toBe('you blocked');
  });

  it('the person’s own identities are never hidden, whatever a list says', async () => {
    const { engine, keys: [a, c] } = await person('Alice', 'Carol');
    await engine.handle('feed.putItem', { identity: a!, name: 'posts', id: 'a1', item: { text: 'mine', ts: 1 } });
    await writeListChanges({ transact: async (fn) => void (await engine.library.transact(c!, 'moderation/lists/all', fn)) }, [
      { op: 'put', entry: { key: a!, kind: 'block', ts: 1 } },
    ]);
    await engine.handle('mod.subscribe', { list: `${c}/moderation/lists/all` });
    expect(await ids(engine, a!)).toEqual(['a1']);
    expect(((await engine.handle('mod.explain', { key: a! })) as { decision: string }).decision).toBe('allowed');
  });

  it('own entries publish as a community list, kept in step, which another engine reads as signed', async () => {
    const { engine: carol, keys: [c] } = await person('Carol');
    const { engine: other, keys: [o] } = await person('Other');
    const { keys: [m, n] } = await person('M', 'N');
    await invalidParams(carol.handle('mod.publish', { identity: c!, name: 'spam' }));
    await carol.handle('mod.set', { key: m!, kind: 'block', reason: 'spam' });
    const published = (await carol.handle('mod.publish', { identity: c!, name: 'spam' })) as { list: string };
    expect(published).toEqual({ list: `${c}/moderation/lists/spam`, link: `web+p2p:list/${c}/moderation/lists/spam`, entries: 1 });
    await carol.handle('mod.set', { key: n!, kind: 'trust' });
    await carol.handle('mod.set', { key: m!, kind: 'none' });

    expect((await deliver(carol, other, published.list)).refused).toEqual([]);
    await other.handle('mod.subscribe', { list: published.list });
    expect(((await other.handle('mod.state', undefined)) as { subscriptions: unknown[] }).subscriptions).toEqual([
      expect.objectContaining({ list: published.list, status: 'ok', blocks: 0, trusts: 1 }),
    ]);
    expect(((await other.handle('mod.explain', { key: n! })) as { decision: string }).decision).toBe('trusted');
    expect(((await other.handle('mod.explain', { key: m! })) as { decision: string }).decision).toBe('neutral');
    expect(o).toBeDefined();
  });

  it('settings survive a restart of the engine; bad input is refused by name', async () => {
    const { engine, keys: [a], kv, signer } = await person('Alice');
    const { keys: [m] } = await person('M');
    await engine.handle('mod.set', { key: m!, kind: 'block' });
    await engine.handle('mod.trustDepth', { depth: 3 });
    await engine.stop();
    engines.splice(engines.indexOf(engine), 1);
    const again = createEngine({ host: 'node' })({ signer, kv, log: createMemoryLogger() });
    await again.start();
    engines.push(again);
    expect(again.moderation.isBlocked(m!)).toBe(true);
    expect(((await again.handle('mod.state', undefined)) as { trustDepth: number }).trustDepth).toBe(3);
    await expectCode(() => again.handle('mod.set', { key: 'not-a-key', kind: 'block' }), 'INVALID_MODERATION_KEY');
    await invalidParams(again.handle('mod.set', { key: m!, kind: 'mute' }));
    await expectCode(() => again.handle('mod.subscribe', { list: 'nope' }), 'INVALID_LIST_REF');
    await expectCode(() => again.handle('mod.subscribe', { list: `${a}/moderation/lists/missing` }), 'LIST_NOT_FOUND');
    await invalidParams(again.handle('mod.trustDepth', { depth: 9 }));
  });
  it('a list that grows after subscribing applies as its envelopes arrive; the trust web reads trusted keys’ own lists', async () => {
    const { engine: carol, keys: [c] } = await person('Carol');
    const { engine: alice } = await person('Alice');
    const { engine: tom, keys: [t] } = await person('Tom');
    const { keys: [m, n, friend] } = await person('M', 'N', 'Friend');
    await carol.handle('mod.set', { key: m!, kind: 'block' });
    const { list } = (await carol.handle('mod.publish', { identity: c!, name: 'spam' })) as { list: string };
    await deliver(carol, alice, list);
    await alice.handle('mod.subscribe', { list });
    expect(alice.moderation.isBlocked(n!)).toBe(false);

    const changed = new Promise<void>((resolve) => alice.moderation.onChange(() => alice.moderation.isBlocked(n!) && resolve()));
    await carol.handle('mod.set', { key: n!, kind: 'block' });
    await deliver(carol, alice, list);
    await changed;
    expect(alice.moderation.isBlocked(n!)).toBe(true);

    // Alice trusts Tom; Tom's published own list (moderation/own) trusts Friend: trusted through the web.
    await alice.handle('mod.set', { key: t!, kind: 'trust' });
    await writeListChanges({ transact: async (fn) => void (await tom.library.transact(t!, 'moderation/own', fn)) }, [
      { op: 'put', entry: { key: friend!, kind: 'trust', ts: 1 } },
    ]);
    const trusted = new Promise<void>((resolve) => alice.moderation.onChange(() => alice.moderation.view.decisionOf(friend!) === 'trusted' && resolve()));
    await deliver(tom, alice, `${t}/moderation/own`);
    await trusted;
    const verdict = (await alice.handle('mod.explain', { key: friend! })) as { because: string };
    expect(verdict.because).toContain('trusts');
  });
});
