import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePublicKey } from '../identity/index.ts';
import { MemoryKeyValueStore } from '../kv/index.ts';
import { ProviderErrorCode, PROTOCOL_VERSION, type PortLike, type PromptDecision, type UiState } from '../protocol/index.ts';
import { createPortClient } from '../protocol/rpc.ts';
import { portPair } from '../protocol/test-ports.ts';
import { concatBytes, fromBase64url, utf8 } from '../util/bytes.ts';
import { createMemoryLogger } from '../util/log.ts';
import { createVault } from '../vault/index.ts';
import { createService, type PromptWindows } from './index.ts';

const ORIGIN = 'http://127.0.0.1:8080';
const OTHER = 'http://127.0.0.1:9090';

/** Prompt windows that the test answers: each open() waits for the test to decide. */
function scriptedPrompts() {
  const opened: string[] = [];
  const waiters: ((id: string) => void)[] = [];
  const windows: PromptWindows = {
    async open(id) {
      opened.push(id);
      waiters.shift()?.(id);
    },
    async close() {},
  };
  const next = () => new Promise<string>((resolve) => (opened.length > answered ? resolve(opened[answered]!) : waiters.push(resolve)));
  let answered = 0;
  return {
    windows,
    opened,
    async nextPrompt() {
      const id = await next();
      answered++;
      return id;
    },
  };
}

/** What the fake engine reports as joined networks (set by a test before it asks). */
let networks: { name: string; identity: string }[] = [];
/** Feed calls the fake engine received, in order. */
let feedCalls: { method: string; params: Record<string, unknown> }[] = [];
/** What the fake engine's feed.query answers (a test sets it; each call gets a copy). */
let queryItems: Record<string, unknown>[] = [];
/** The moderation view version the fake engine's status reports. */
let moderationVersion: number | undefined;
/** Moderation calls (other than explain) the fake engine received. */
let modCalls: { method: string; params: Record<string, unknown> }[] = [];

async function setup() {
  networks = [];
  feedCalls = [];
  queryItems = [];
  moderationVersion = undefined;
  modCalls = [];
  const local = new MemoryKeyValueStore();
  const session = new MemoryKeyValueStore();
  const prompts = scriptedPrompts();
  const log = createMemoryLogger();
  const service = createService({ log })({
    vault: createVault({ local, session, kdfIterations: 1000 }),
    local,
    prompts: prompts.windows,
    engine: {
      status: async () => ({ running: true, host: 'node', startedAt: 1, webrtc: false, protocolVersion: PROTOCOL_VERSION, moderation: moderationVersion }),
      call: async (method: string, params: Record<string, unknown>) => {
        if (method === 'net.list') return networks;
        if (method === 'net.retry') return null;
        if (method === 'mod.explain') {
          const allowed = modCalls.some((c) => c.method === 'mod.punch' && c.params.key === params.key);
          return { key: params.key, decision: allowed ? 'allowed' : 'blocked', because: allowed ? 'you allowed it (punch-through)' : 'blocked by list spam of curator z6Mk…', reasons: [] };
        }
        if (method.startsWith('mod.')) {
          modCalls.push({ method, params });
          return null;
        }
        if (method.startsWith('feed.')) {
          feedCalls.push({ method, params });
          if (method === 'feed.write') return { seq: feedCalls.filter((c) => c.method === 'feed.write').length };
          if (method === 'feed.read') return { author: params.author, name: params.name, seq: 3, update: 'AAA', from: 'local' };
          if (method === 'feed.query') return structuredClone(queryItems);
          return null;
        }
        throw new Error(`unexpected engine call ${method}`);
      },
    } as never,
  });
  await service.start();
  const connectUi = () => {
    const [client, server] = portPair();
    service.connectUi(server);
    return createPortClient<import('../protocol/index.ts').UiMethods, { state: UiState }>(client);
  };
  const connectPage = (origin: string) => {
    const [client, server] = portPair();
    service.connectPage(origin, server);
    const events: { event: string; data: unknown }[] = [];
    const waiters: { event: string; count: number; resolve: () => void }[] = [];
    /** Resolves once `count` events named `event` have arrived in all. */
    const received = (event: string, count: number) =>
      new Promise<void>((resolve) => {
        waiters.push({ event, count, resolve });
        check();
      });
    const check = () => {
      for (const w of waiters.splice(0)) {
        if (events.filter((e) => e.event === w.event).length >= w.count) w.resolve();
        else waiters.push(w);
      }
    };
    const rpc = createPortClient<import('../protocol/index.ts').PageMethods, Record<string, unknown>>(client);
    const port: PortLike = client;
    port.onMessage((m) => {
      const msg = m as { type?: string; event?: string; data?: unknown };
      if (msg.type === 'event') events.push({ event: msg.event!, data: msg.data });
      check();
    });
    return { rpc, events, port, received };
  };
  const ui = connectUi();
  const alice = await ui.request('vault.initialize', { passphrase: 'correct horse', displayName: 'Alice' });
  return { service, ui, alice, prompts, connectPage, connectUi, log, local };
}

const decideNext = async (ctx: Awaited<ReturnType<typeof setup>>, decision: PromptDecision) => {
  const id = await ctx.prompts.nextPrompt();
  await ctx.ui.request('prompt.resolve', { id, decision });
  return id;
};

describe('page grants', () => {
  it('a page learns nothing before the person grants its origin', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    await expect(page.rpc.request('p2p_getIdentity')).resolves.toBeNull();
    await expect(page.rpc.request('p2p_sign', { message: 'hi' })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
  });

  it('requestIdentity prompts, and the approved identity is what the page receives', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const granted = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    const result = await granted;
    expect(result.publicKey).toBe(ctx.alice.publicKey);
    expect(result.statement.displayName).toBe('Alice');
    // Granted now: no second prompt.
    await expect(page.rpc.request('p2p_requestIdentity')).resolves.toEqual(result);
    expect(ctx.prompts.opened).toHaveLength(1);
  });

  it('a refusal is error 4001 and grants nothing', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: false });
    await expect(asked).rejects.toMatchObject({ code: ProviderErrorCode.USER_REJECTED });
    await expect(page.rpc.request('p2p_getIdentity')).resolves.toBeNull();
  });

  it('a grant for one origin tells another origin nothing', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const granted = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await granted;
    const other = ctx.connectPage(OTHER);
    await expect(other.rpc.request('p2p_getIdentity')).resolves.toBeNull();
    await expect(other.rpc.request('p2p_sign', { message: 'x' })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
  });

  it('a page that floods gets REQUEST_PENDING, not a stack of prompts', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const first = page.rpc.request('p2p_requestIdentity');
    const flood = await Promise.allSettled(Array.from({ length: 10 }, () => page.rpc.request('p2p_requestIdentity')));
    for (const r of flood) expect(r).toMatchObject({ status: 'rejected', reason: { code: ProviderErrorCode.REQUEST_PENDING } });
    await decideNext(ctx, { approved: true });
    await expect(first).resolves.toMatchObject({ publicKey: ctx.alice.publicKey });
    expect(ctx.prompts.opened).toHaveLength(1);
  });

  it('prompts from different origins come one after another', async () => {
    const ctx = await setup();
    const a = ctx.connectPage(ORIGIN).rpc.request('p2p_requestIdentity');
    const b = ctx.connectPage(OTHER).rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true });
    await a;
    expect(ctx.prompts.opened).toHaveLength(2);
    await decideNext(ctx, { approved: false });
    await expect(b).rejects.toMatchObject({ code: ProviderErrorCode.USER_REJECTED });
  });

  it('closing the prompt window is a refusal', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    const id = await ctx.prompts.nextPrompt();
    const promptUi = ctx.connectUi();
    await promptUi.request('prompt.get', { id });
    promptUi.close();
    await expect(asked).rejects.toMatchObject({ code: ProviderErrorCode.USER_REJECTED });
  });

  it('unknown methods and unexpected params get named errors', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    await expect(page.rpc.request('p2p_exportKeys' as never)).rejects.toMatchObject({ code: ProviderErrorCode.UNSUPPORTED_METHOD });
    await expect((page.rpc.request as (m: string, p: unknown) => Promise<unknown>)('p2p_getIdentity', { origin: OTHER })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
  });
});

describe('p2p_networks', () => {
  it('tells a granted site the names of the networks its identity is in, and nothing else', async () => {
    const ctx = await setup();
    const bob = await ctx.ui.request('identity.create', { displayName: 'Bob' });
    const page = ctx.connectPage(ORIGIN);
    await expect(page.rpc.request('p2p_networks')).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    networks = [
      { name: 'Friends', identity: ctx.alice.id, id: 'n1', peerId: 'p1', invite: 'web+p2p:invite/secret' } as never,
      { name: 'Work', identity: bob.id, id: 'n2' } as never,
    ];
    await expect(page.rpc.request('p2p_networks')).resolves.toEqual([{ name: 'Friends' }]);
  });
});

describe('page signatures', () => {
  async function granted() {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    return { ctx, page };
  }

  it('signs what the prompt showed, bound to the origin, verifiable with node:crypto alone', async () => {
    const { ctx, page } = await granted();
    const signed = page.rpc.request('p2p_sign', { message: 'hello from the page' });
    const id = await ctx.prompts.nextPrompt();
    const view = await ctx.ui.request('prompt.get', { id });
    expect(view).toMatchObject({ kind: 'sign', origin: ORIGIN, message: { text: 'hello from the page' } });
    await ctx.ui.request('prompt.resolve', { id, decision: { approved: true } });
    const result = await signed;
    const origin = utf8(ORIGIN);
    const payload = concatBytes(new Uint8Array([origin.length >> 8, origin.length & 0xff]), origin, utf8('hello from the page'));
    expect(fromBase64url(result.payload)).toEqual(payload);
    const context = utf8(result.context);
    const signedBytes = concatBytes(utf8('P2PB-SIG-V1'), new Uint8Array([0, context.length]), context, payload);
    const spki = concatBytes(Uint8Array.from(Buffer.from('302a300506032b6570032100', 'hex')), decodePublicKey(result.publicKey));
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    expect(nodeVerify(null, signedBytes, key, fromBase64url(result.signature))).toBe(true);
  });

  it('asks every time unless the person let the site sign without asking', async () => {
    const { ctx, page } = await granted();
    const first = page.rpc.request('p2p_sign', { message: 'one' });
    await decideNext(ctx, { approved: true, remember: true });
    await first;
    await expect(page.rpc.request('p2p_sign', { bytes: 'AAEC' })).resolves.toMatchObject({ context: 'p2pb/page-sign/v1' });
    expect(ctx.prompts.opened).toHaveLength(2);
  });

  it('refuses oversized and malformed messages before any prompt', async () => {
    const { ctx, page } = await granted();
    await expect(page.rpc.request('p2p_sign', { message: 'x'.repeat(17 * 1024) })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    await expect(page.rpc.request('p2p_sign', { bytes: '!!' })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    await expect(page.rpc.request('p2p_sign', { message: 1 } as never)).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    expect(ctx.prompts.opened).toHaveLength(1);
  });
});

describe('switching and revoking', () => {
  it('switching the identity an origin sees sends identityChanged to its pages only', async () => {
    const ctx = await setup();
    const bob = await ctx.ui.request('identity.create', { displayName: 'Bob' });
    const page = ctx.connectPage(ORIGIN);
    const other = ctx.connectPage(OTHER);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    await ctx.ui.request('grant.setIdentity', { origin: ORIGIN, id: bob.id });
    await expect(page.rpc.request('p2p_getIdentity')).resolves.toMatchObject({ publicKey: bob.publicKey });
    expect(page.events).toEqual([{ event: 'identityChanged', data: expect.objectContaining({ publicKey: bob.publicKey }) }]);
    expect(other.events).toEqual([]);
    await ctx.ui.request('grant.revoke', { origin: ORIGIN });
    await expect(page.rpc.request('p2p_getIdentity')).resolves.toBeNull();
    expect(page.events.at(-1)).toEqual({ event: 'identityChanged', data: null });
  });

  it('deleting an identity revokes the grants that used it', async () => {
    const ctx = await setup();
    const bob = await ctx.ui.request('identity.create', { displayName: 'Bob' });
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: bob.id });
    await asked;
    await ctx.ui.request('identity.delete', { id: bob.id });
    await expect(page.rpc.request('p2p_getIdentity')).resolves.toBeNull();
    const state = await ctx.ui.request('state.get');
    expect(state.grants).toEqual([]);
    expect(state.identities.map((i) => i.displayName)).toEqual(['Alice']);
  });
});

describe('locked vault', () => {
  it('a wrong passphrase is WRONG_PASSPHRASE and the vault stays locked with everything in it', async () => {
    const ctx = await setup();
    await ctx.ui.request('identity.create', { displayName: 'Bob' });
    await ctx.ui.request('vault.lock');
    const before = JSON.stringify(ctx.local.dump());
    await expect(ctx.ui.request('vault.unlock', { passphrase: 'wrong horse' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(JSON.stringify(ctx.local.dump())).toBe(before);
    expect((await ctx.ui.request('state.get')).vault).toBe('locked');
    await ctx.ui.request('vault.unlock', { passphrase: 'correct horse' });
    expect((await ctx.ui.request('state.get')).identities.map((i) => i.displayName)).toEqual(['Alice', 'Bob']);
  });

  it('a granted page of a locked vault gets an unlock prompt, then its identity', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true });
    await asked;
    await ctx.ui.request('vault.lock');
    await expect(page.rpc.request('p2p_getIdentity')).resolves.toBeNull();
    const again = page.rpc.request('p2p_requestIdentity');
    const id = await ctx.prompts.nextPrompt();
    expect(await ctx.ui.request('prompt.get', { id })).toMatchObject({ kind: 'unlock' });
    await ctx.ui.request('vault.unlock', { passphrase: 'correct horse' });
    await ctx.ui.request('prompt.resolve', { id, decision: { approved: true } });
    await expect(again).resolves.toMatchObject({ publicKey: ctx.alice.publicKey });
  });
});

describe('engine requests', () => {
  it('the engine may sign only in engine contexts', async () => {
    const ctx = await setup();
    await expect(ctx.service.handleEngineRequest('signer.sign', { identity: ctx.alice.id, context: 'p2pb/page-sign/v1', message: 'AA' })).rejects.toMatchObject({ code: 'FORBIDDEN_CONTEXT' });
    await expect(ctx.service.handleEngineRequest('signer.sign', { identity: ctx.alice.id, context: 'p2pb/address-record/v1', message: 'AA' })).resolves.toHaveProperty('signature');
    await expect(ctx.service.handleEngineRequest('vault.export', {})).rejects.toMatchObject({ code: ProviderErrorCode.UNSUPPORTED_METHOD });
  });
});

describe('feeds from pages', () => {
  const UPDATE = 'AAA'; // base64url of an (empty) Yjs update: the engine checks Yjs, not the background
  const BOB = 'z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';

  it('reading, writing and subscribing need a grant', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    await expect(page.rpc.request('p2p_readFeed', { name: 'posts' })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    await expect(page.rpc.request('p2p_writeFeed', { name: 'posts', update: UPDATE })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    await expect(page.rpc.request('p2p_subscribeFeed', { author: BOB, name: 'posts' })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    expect(feedCalls).toEqual([]);
  });

  it('writes go to the granted identity only, after a write prompt (or a standing write grant)', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    const first = page.rpc.request('p2p_writeFeed', { name: 'posts', update: UPDATE });
    const id = await ctx.prompts.nextPrompt();
    expect(await ctx.ui.request('prompt.get', { id })).toMatchObject({ kind: 'write', origin: ORIGIN, feed: 'posts', message: { bytes: 2 } });
    await ctx.ui.request('prompt.resolve', { id, decision: { approved: true, remember: true } });
    await expect(first).resolves.toEqual({ seq: 1 });
    await expect(page.rpc.request('p2p_writeFeed', { name: 'posts', update: UPDATE })).resolves.toEqual({ seq: 2 });
    expect(ctx.prompts.opened).toHaveLength(2);
    expect(feedCalls.map((c) => c.params.identity)).toEqual([ctx.alice.id, ctx.alice.id]);
    // A refused write reaches nothing.
    const other = ctx.connectPage(OTHER);
    const asked2 = other.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked2;
    const refused = other.rpc.request('p2p_writeFeed', { name: 'posts', update: UPDATE });
    await decideNext(ctx, { approved: false });
    await expect(refused).rejects.toMatchObject({ code: ProviderErrorCode.USER_REJECTED });
    expect(feedCalls).toHaveLength(2);
  });

  it('"show anyway" is a punch-through only the person confirms, shown with why the key is hidden', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    await expect(page.rpc.request('p2p_showAnyway', { author: BOB })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    await expect(page.rpc.request('p2p_showAnyway', { author: 'nope' })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    const refused = page.rpc.request('p2p_showAnyway', { author: BOB });
    const id = await ctx.prompts.nextPrompt();
    expect(await ctx.ui.request('prompt.get', { id })).toMatchObject({ kind: 'punch-through', origin: ORIGIN, subject: { key: BOB, because: 'blocked by list spam of curator z6Mk…' } });
    await ctx.ui.request('prompt.resolve', { id, decision: { approved: false } });
    await expect(refused).rejects.toMatchObject({ code: ProviderErrorCode.USER_REJECTED });
    expect(modCalls).toEqual([]);
    const shown = page.rpc.request('p2p_showAnyway', { author: BOB });
    await decideNext(ctx, { approved: true });
    await expect(shown).resolves.toMatchObject({ key: BOB, decision: 'allowed' });
    expect(modCalls).toEqual([{ method: 'mod.punch', params: { key: BOB, allow: true, reason: `shown anyway from ${ORIGIN}` } }]);
    // Already shown: no prompt, nothing asked of the engine.
    await expect(page.rpc.request('p2p_showAnyway', { author: BOB })).resolves.toMatchObject({ decision: 'allowed' });
    expect(ctx.prompts.opened).toHaveLength(3);
  });

  it('published apps and moderation lists are not writable by pages, even with a standing write grant', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    for (const name of ['apps/microblog', 'moderation/own', 'moderation/lists/spam', 'identity/profile']) {
      await expect(page.rpc.request('p2p_writeFeed', { name, update: UPDATE })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
      await expect(page.rpc.request('p2p_putItem', { name, id: 'x', item: { ts: 1 } })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    }
    expect(ctx.prompts.opened).toHaveLength(1);
    expect(feedCalls).toEqual([]);
  });

  it('bad feed names, keys and updates are INVALID_PARAMS before any prompt or engine call', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    for (const params of [
      { name: 'Posts!', update: UPDATE },
      { name: 'posts', update: '!!' },
      { name: 'posts', update: UPDATE, author: BOB },
      { name: 'posts' },
    ]) {
      await expect(page.rpc.request('p2p_writeFeed', params as never)).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    }
    await expect(page.rpc.request('p2p_readFeed', { author: 'not-a-key', name: 'posts' })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    await expect(page.rpc.request('p2p_subscribeFeed', { author: BOB } as never)).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    expect(ctx.prompts.opened).toHaveLength(1);
    expect(feedCalls).toEqual([]);
  });

  it('feedUpdate events reach only the pages subscribed to that feed', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    const other = ctx.connectPage(ORIGIN);
    await page.rpc.request('p2p_subscribeFeed', { author: BOB, name: 'posts' });
    expect(feedCalls).toEqual([{ method: 'feed.follow', params: { identity: ctx.alice.id, author: BOB } }]);
    // The page reads as the identity it was granted.
    await page.rpc.request('p2p_readFeed', { author: BOB, name: 'posts' });
    expect(feedCalls[1]).toEqual({ method: 'feed.read', params: { identity: ctx.alice.id, author: BOB, name: 'posts' } });
    ctx.service.engineFeed({ author: BOB, name: 'posts', seq: 4, update: UPDATE, local: false });
    ctx.service.engineFeed({ author: BOB, name: 'other', seq: 1, update: UPDATE, local: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(page.events).toEqual([{ event: 'feedUpdate', data: { author: BOB, name: 'posts', seq: 4, update: UPDATE } }]);
    expect(other.events).toEqual([]);
  });

  it('p2p_resolve asks the engine as the granted identity, for 1 to 64 keys, and nothing else', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    await expect(page.rpc.request('p2p_resolve', { keys: [BOB] })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    await page.rpc.request('p2p_resolve', { keys: [BOB, BOB] });
    expect(feedCalls).toEqual([{ method: 'feed.resolve', params: { identity: ctx.alice.id, keys: [BOB, BOB] } }]);
    for (const params of [{ keys: [] }, { keys: Array.from({ length: 65 }, () => BOB) }, { keys: [7] }, { keys: BOB }, { keys: [BOB], identity: BOB }, null]) {
      await expect(page.rpc.request('p2p_resolve', params as never)).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    }
    expect(feedCalls).toHaveLength(1);
    // Extension pages (the consent page) ask the same as one of the person's identities.
    await ctx.ui.request('feed.resolve', { identity: ctx.alice.id, keys: [BOB] });
    expect(feedCalls[1]).toEqual({ method: 'feed.resolve', params: { identity: ctx.alice.id, keys: [BOB] } });
    await expect(ctx.ui.request('feed.resolve', { identity: ctx.alice.id, keys: [] })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    await expect(ctx.ui.request('feed.resolve', { identity: 'nobody', keys: [BOB] })).rejects.toBeTruthy();
  });

  it('live queries: the items now, then queryUpdate when they change, from feeds of that name, follows and moderation', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const sort = { id: 'chronological', keys: [{ field: 'ts', order: 'desc' as const }] };
    await expect(page.rpc.request('p2p_watchQuery', { name: 'posts', sort })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    const first = { id: 'p1', author: BOB, feed: `${BOB}/posts`, ts: 1, text: 'one' };
    queryItems = [first];
    const watched = await page.rpc.request('p2p_watchQuery', { name: 'posts', sort, limit: 10 });
    expect(watched).toEqual({ id: expect.any(String), items: [first] });
    expect(feedCalls).toEqual([{ method: 'feed.query', params: { identity: ctx.alice.id, name: 'posts', sort, limit: 10 } }]);

    // A post arrives: the engine's items change, the page hears all of them.
    const second = { ...first, id: 'p2', ts: 2, text: 'two' };
    queryItems = [second, first];
    ctx.service.engineFeed({ author: BOB, name: 'posts', seq: 2, update: UPDATE, local: false });
    await page.received('queryUpdate', 1);
    expect(page.events).toEqual([{ event: 'queryUpdate', data: { id: watched.id, items: [second, first] } }]);

    // Another feed name runs nothing; the same items again send nothing.
    ctx.service.engineFeed({ author: BOB, name: 'notes', seq: 1, update: UPDATE, local: false });
    ctx.service.engineFeed({ author: BOB, name: 'posts', seq: 3, update: UPDATE, local: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(feedCalls.filter((c) => c.method === 'feed.query')).toHaveLength(3);
    expect(page.events).toHaveLength(1);

    // Following someone changes what the timeline covers.
    queryItems = [first];
    await page.rpc.request('p2p_follow', { author: BOB });
    await page.received('queryUpdate', 2);
    expect(page.events[1]).toEqual({ event: 'queryUpdate', data: { id: watched.id, items: [first] } });

    // The person's moderation changes: what the query leaves out may differ.
    moderationVersion = 1;
    ctx.service.engineChanged();
    await new Promise((resolve) => setTimeout(resolve, 0));
    queryItems = [second];
    moderationVersion = 2;
    ctx.service.engineChanged();
    await page.received('queryUpdate', 3);
    expect(page.events.filter((e) => e.event === 'queryUpdate')[2]).toEqual({ event: 'queryUpdate', data: { id: watched.id, items: [second] } });

    // A burst (a pull of many envelopes): one run now, one more after it, the last items sent.
    const runs = feedCalls.filter((c) => c.method === 'feed.query').length;
    for (let seq = 10; seq < 60; seq++) {
      queryItems = [{ ...first, id: `b${seq}`, ts: seq }];
      ctx.service.engineFeed({ author: BOB, name: 'posts', seq, update: UPDATE, local: false });
    }
    await page.received('queryUpdate', 5);
    expect(feedCalls.filter((c) => c.method === 'feed.query').length - runs).toBe(2);
    expect(page.events.filter((e) => e.event === 'queryUpdate').at(-1)).toEqual({ event: 'queryUpdate', data: { id: watched.id, items: [{ ...first, id: 'b59', ts: 59 }] } });
    const updates = page.events.length;

    // Unwatched: nothing more; an unknown id is a named error.
    await page.rpc.request('p2p_unwatchQuery', { id: watched.id });
    queryItems = [];
    ctx.service.engineFeed({ author: BOB, name: 'posts', seq: 4, update: UPDATE, local: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(page.events).toHaveLength(updates);
    await expect(page.rpc.request('p2p_unwatchQuery', { id: watched.id })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    await expect(page.rpc.request('p2p_unwatchQuery', { id: 7 } as never)).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    await expect(page.rpc.request('p2p_watchQuery', { name: 'Bad Name', sort })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
  });

  it('live queries are bounded per page, belong to their page, and stop with the grant', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    const other = ctx.connectPage(ORIGIN);
    const sort = { id: 'chronological', keys: [{ field: 'ts', order: 'desc' as const }] };
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) ids.push((await page.rpc.request('p2p_watchQuery', { name: 'posts', sort })).id);
    expect(new Set(ids).size).toBe(16);
    await expect(page.rpc.request('p2p_watchQuery', { name: 'posts', sort })).rejects.toMatchObject({ code: ProviderErrorCode.LIMIT_EXCEEDED });
    // Another page of the same site cannot stop them.
    await expect(other.rpc.request('p2p_unwatchQuery', { id: ids[0]! })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    // The grant is revoked: the next change runs nothing for this page and sends nothing.
    await ctx.ui.request('grant.revoke', { origin: ORIGIN });
    const before = feedCalls.length;
    queryItems = [{ id: 'x', author: BOB, feed: `${BOB}/posts`, ts: 1 }];
    ctx.service.engineFeed({ author: BOB, name: 'posts', seq: 1, update: UPDATE, local: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(feedCalls.length).toBe(before);
    expect(page.events.filter((e) => e.event === 'queryUpdate')).toEqual([]);
  });

  it('the UI writes to one of the person\'s own feeds (publishing an app), never with a bad name or an unknown identity', async () => {
    const ctx = await setup();
    expect(await ctx.ui.request('feed.write', { identity: ctx.alice.id, name: 'apps/probe', update: UPDATE })).toEqual({ seq: 1 });
    expect(feedCalls).toEqual([{ method: 'feed.write', params: { identity: ctx.alice.id, name: 'apps/probe', update: UPDATE } }]);
    await expect(ctx.ui.request('feed.write', { identity: ctx.alice.id, name: 'Apps!', update: UPDATE })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    await expect(ctx.ui.request('feed.write', { identity: 'nobody', name: 'apps/probe', update: UPDATE })).rejects.toMatchObject({ code: 'UNKNOWN_IDENTITY' });
    expect(ctx.prompts.opened).toHaveLength(0);
    expect(feedCalls).toHaveLength(1);
  });

  it('the UI reads a feed fresh (a published app: ask its holders first) only when asked to, with a boolean', async () => {
    const ctx = await setup();
    await ctx.ui.request('feed.read', { identity: ctx.alice.id, author: BOB, name: 'apps/probe', fresh: true });
    await ctx.ui.request('feed.read', { identity: ctx.alice.id, author: BOB, name: 'apps/probe' });
    expect(feedCalls).toEqual([
      { method: 'feed.read', params: { identity: ctx.alice.id, author: BOB, name: 'apps/probe', fresh: true } },
      { method: 'feed.read', params: { identity: ctx.alice.id, author: BOB, name: 'apps/probe' } },
    ]);
    await expect(ctx.ui.request('feed.read', { identity: ctx.alice.id, author: BOB, name: 'apps/probe', fresh: 'yes' } as never)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
  });

  it('follow, following and query act as the granted identity, with checked params', async () => {
    const ctx = await setup();
    const page = ctx.connectPage(ORIGIN);
    await expect(page.rpc.request('p2p_follow', { author: BOB })).rejects.toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    const asked = page.rpc.request('p2p_requestIdentity');
    await decideNext(ctx, { approved: true, identity: ctx.alice.id });
    await asked;
    await page.rpc.request('p2p_follow', { author: BOB });
    await page.rpc.request('p2p_following');
    const sort = { id: 'chronological', keys: [{ field: 'ts', order: 'desc' as const }] };
    await page.rpc.request('p2p_query', { name: 'posts', sort, limit: 50 });
    expect(feedCalls).toEqual([
      { method: 'feed.follow', params: { identity: ctx.alice.id, author: BOB } },
      { method: 'feed.following', params: { identity: ctx.alice.id } },
      { method: 'feed.query', params: { identity: ctx.alice.id, name: 'posts', sort, limit: 50 } },
    ]);
    await expect(page.rpc.request('p2p_query', { name: 'Bad Name', sort })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    await expect(page.rpc.request('p2p_query', { name: 'posts', sort, identity: BOB } as never)).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    await expect(page.rpc.request('p2p_follow', { author: 'nobody' })).rejects.toMatchObject({ code: ProviderErrorCode.INVALID_PARAMS });
    expect(feedCalls).toHaveLength(3);
  });
});
