/**
 * Feeds end to end, inside the private network namespace, with the always-on node started
 * through its CLI: A writes to a feed through window.p2p; B, subscribed, has it pushed within a
 * second; A's browser closes; B still reads A's feed, and a fresh browser C gets it — from the
 * always-on node when A delegated hosting to it, from B's cache when A did not.
 */
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import * as Y from 'yjs';
import { clickClosing, click, createFirstIdentity, openPopup, uiRequest, withPrompt } from './flows.ts';
import { launchBrowser, screenshot, startStaticServer, type BrowserHandle, type BrowserKind } from './harness.ts';
import { twoPeopleInANetwork } from './node-cli.ts';
import { TEST_PAGE, call, finishCall, startCall } from './page.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const fromB64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'));

/** The next Yjs update of `doc` after appending `text` to its Y.Text "t". */
function append(doc: Y.Doc, text: string): string {
  const before = Y.encodeStateVector(doc);
  doc.getText('t').insert(doc.getText('t').length, text);
  return b64(Y.encodeStateAsUpdate(doc, before));
}
function textOf(update: string): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, fromB64(update));
  return doc.getText('t').toString();
}

async function grantPage(handle: BrowserHandle, page: Page, origin: string): Promise<string> {
  await page.bringToFront();
  await withPrompt(handle, () => startCall(page, 'grant', 'p2p_requestIdentity'), { kind: 'identity', origin }, (prompt) => clickClosing(prompt, 'prompt-approve'));
  return (await finishCall(page, 'grant')).result.publicKey;
}

const p50 = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

interface Scenario {
  delegated: boolean;
  kinds: [BrowserKind, BrowserKind, BrowserKind];
}
const scenarios: Scenario[] = [
  { delegated: false, kinds: ['chromium', 'firefox', 'chromium'] },
  { delegated: true, kinds: ['firefox', 'chromium', 'firefox'] },
];

describe('feeds', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it.each(scenarios)('A ($kinds.0) writes, B ($kinds.1) has it pushed; with A gone, C ($kinds.2) reads it (delegated to the node: $delegated)', async ({ delegated, kinds }) => {
    // A creates a closed network on the node; B joins it from the invite.
    const { node, a, popupA, alice, network, b, bob, networkB } = await twoPeopleInANetwork('Feeds', [kinds[0], kinds[1]], cleanup);
    expect(network.status).toBe('online');
    const server = await startStaticServer({ '/index.html': TEST_PAGE });
    cleanup.push(() => server.close());

    // A's page writes its first post: a write prompt, allowed from now on.
    const pageA = await a.browser.newPage();
    await pageA.goto(server.url('/'), { waitUntil: 'load' });
    expect(await grantPage(a, pageA, server.origin)).toBe(alice);
    const docA = new Y.Doc();
    await withPrompt(a, () => startCall(pageA, 'write', 'p2p_writeFeed', { name: 'posts', update: append(docA, 'hello') }), { kind: 'write', origin: server.origin }, async (prompt) => {
      expect(await prompt.$eval('[data-testid="prompt-feed"]', (el) => el.textContent)).toBe('posts');
      await click(prompt, 'prompt-remember');
      if (!delegated) await screenshot(prompt, 'prompt-write');
      await clickClosing(prompt, 'prompt-approve');
    });
    expect((await finishCall(pageA, 'write')).result).toEqual({ seq: 1 });

    if (delegated) {
      // A has the network's always-on node host its feeds, from the popup.
      await popupA.bringToFront();
      await click(popupA, 'tab-networks');
      await click(popupA, 'network-delegate');
      await popupA.waitForSelector('[data-testid="network-revoke-host"]');
      await screenshot(popupA, 'popup-hosting');
      const [hosted] = (await uiRequest(popupA, 'state.get')).networks;
      expect(hosted.hosts).toEqual([network.bootstrap[0].split('/p2p/')[1]]);
    }

    // B's page subscribes to A's feed and reads it.
    const pageB = await b.browser.newPage();
    await pageB.goto(server.url('/'), { waitUntil: 'load' });
    expect(await grantPage(b, pageB, server.origin)).toBe(bob);
    expect((await call(pageB, 'p2p_subscribeFeed', { author: alice, name: 'posts' })).error).toBeUndefined();
    const first = await call(pageB, 'p2p_readFeed', { author: alice, name: 'posts' });
    expect(first.error).toBeUndefined();
    expect(textOf(first.result.update)).toBe('hello');
    const docB = new Y.Doc();
    Y.applyUpdate(docB, fromB64(first.result.update));

    // Push: each of A's next posts reaches B's page without B asking, within a second.
    const latencies: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const heard = pageB.evaluate((seq) => (window as any).feedEvent(seq), i + 1);
      const sent = Date.now();
      expect((await call(pageA, 'p2p_writeFeed', { name: 'posts', update: append(docA, ` #${i}`) })).result).toEqual({ seq: i + 1 });
      const event = await heard;
      // The event carries the update itself: applied to what B read, it gives A's text.
      Y.applyUpdate(docB, fromB64(event.update));
      expect(docB.getText('t').toString()).toBe(`hello${Array.from({ length: i }, (_, k) => ` #${k + 1}`).join('')}`);
      expect(event).toMatchObject({ author: alice, name: 'posts', seq: i + 1 });
      latencies.push(event.at - sent);
    }
    console.log(`${kinds[0]} → ${kinds[1]} push latency: p50 ${p50(latencies)} ms, max ${Math.max(...latencies)} ms`);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    const expected = 'hello #1 #2 #3 #4 #5';

    // A's browser closes. B still reads A's feed, from its own drive.
    await a.close();
    const offline = await call(pageB, 'p2p_readFeed', { author: alice, name: 'posts' });
    expect(textOf(offline.result.update)).toBe(expected);
    expect(offline.result.seq).toBe(6);

    // A fresh browser C joins and reads A's feed: from the node, or from B's cache.
    const c = await launchBrowser(kinds[2]);
    cleanup.push(() => c.close());
    const popupC = await openPopup(c);
    const carol = await createFirstIdentity(popupC, 'Carol');
    expect((await uiRequest(popupC, 'network.join', { link: network.invite, identity: carol })).status).toBe('online');
    const read = await uiRequest(popupC, 'feed.read', { identity: carol, author: alice, name: 'posts' });
    expect(textOf(read.update)).toBe(expected);
    expect(read.seq).toBe(6);
    const hostPeerId = network.bootstrap[0].split('/p2p/')[1];
    expect(read.from).toBe(delegated ? hostPeerId : networkB.peerId);
  });

  it.each(['chromium', 'firefox'] as BrowserKind[])('%s: filling the storage quota is a clear, named error; nothing is half-written and the own feed is intact', { timeout: 240_000 }, async (kind) => {
    const disk = process.env.P2PB_SMALL_DISK;
    expect(disk, 'tests/e2e/netns-run.sh mounts a small disk for this test').toBeTruthy();
    const server = await startStaticServer({ '/index.html': TEST_PAGE });
    cleanup.push(() => server.close());
    // The profile (and so IndexedDB) on a 48 MB disk: the browser sizes its quota from it.
    const handle = await launchBrowser(kind, { profileParent: disk! });
    cleanup.push(() => handle.close());
    const popup = await openPopup(handle);
    const alice = await createFirstIdentity(popup, 'Alice');
    const page = await handle.browser.newPage();
    await page.goto(server.url('/'), { waitUntil: 'load' });
    expect(await grantPage(handle, page, server.origin)).toBe(alice);
    // Each write sets one key of the Y.Map "m" from a fresh document: independent updates, so
    // the test never re-encodes what it already wrote.
    const entry = (key: string, value: string) => {
      const doc = new Y.Doc();
      doc.getMap('m').set(key, value);
      return b64(Y.encodeStateAsUpdate(doc));
    };
    await withPrompt(handle, () => startCall(page, 'first', 'p2p_writeFeed', { name: 'journal', update: entry('k0', 'kept') }), { kind: 'write', origin: server.origin }, async (prompt) => {
      await click(prompt, 'prompt-remember');
      await clickClosing(prompt, 'prompt-approve');
    });
    expect((await finishCall(page, 'first')).result).toEqual({ seq: 1 });

    // Write ~700 KB entries (random text, so compression does not help) until the disk refuses.
    const written = new Map<string, string>([['k0', 'kept']]);
    let refusal: { code: number | string; message: string } | undefined;
    const started = Date.now();
    for (let i = 1; i <= 300 && !refusal; i++) {
      const value = randomText(700_000);
      const result = await call(page, 'p2p_writeFeed', { name: 'journal', update: entry(`k${i}`, value) });
      if (result.error) refusal = result.error;
      else {
        expect(result.result).toEqual({ seq: written.size + 1 });
        written.set(`k${i}`, value);
      }
    }
    expect(refusal, 'the disk filled up within 300 writes').toBeDefined();
    console.log(`${kind}: storage full after ${written.size} envelopes (~${Math.round((written.size * 700_000) / 1e6)} MB, ${Date.now() - started} ms): ${refusal!.code} ${refusal!.message}`);
    expect(refusal!.code).toBe('STORAGE_FULL');
    expect(refusal!.message).toMatch(/full|space|quota/i);

    // The popup says so, on every tab.
    await popup.bringToFront();
    const state = await uiRequest(popup, 'state.get');
    expect(state.storage.status).toBe('full');
    await popup.waitForSelector('[data-testid="storage-full"]');
    await screenshot(popup, `popup-storage-full-${kind}`);

    // Nothing half-written: the feed is exactly the writes that succeeded.
    const read = await call(page, 'p2p_readFeed', { name: 'journal' });
    expect(read.error).toBeUndefined();
    expect(read.result.seq).toBe(written.size);
    const held = new Y.Doc();
    Y.applyUpdate(held, fromB64(read.result.update));
    const map = held.getMap('m');
    expect([...map.keys()].sort()).toEqual([...written.keys()].sort());
    for (const [key, value] of written) expect(map.get(key) === value, `entry ${key} intact`).toBe(true);
  });
});

/** Text that does not compress: random letters and digits. */
function randomText(length: number): string {
  const bytes = randomBytes(length);
  let text = '';
  for (const byte of bytes) text += 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_'[byte & 63];
  return text;
}
