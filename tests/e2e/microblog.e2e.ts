/**
 * The microblog app over window.p2p, end to end in a private network namespace: A (Chromium)
 * and B (Firefox) join a network; A posts; B follows A through A's profile link and sees the
 * post; B's reply appears on A's side; switching the sorting function reorders B's timeline;
 * B's second UI (the compact reader) shows the same posts. The apps are served as ordinary web
 * pages here (the sandboxed app runtime serves the same files: tests/e2e/apps.e2e.ts).
 */
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { click, clickClosing, createFirstIdentity, fill, openPopup, uiRequest, withPrompt, MUTATION } from './flows.ts';
import { REPO_ROOT, launchBrowser, screenshot, startStaticServer, type BrowserHandle } from './harness.ts';
import { startNodeCli } from './node-cli.ts';

/** Opens the app page, approves the identity prompt, waits until the app says it is ready. */
async function openApp(handle: BrowserHandle, url: string, origin: string, options: { granted?: boolean } = {}): Promise<Page> {
  const page = await handle.browser.newPage();
  const load = () => page.goto(url, { waitUntil: 'load' }).then(() => page.bringToFront());
  if (options.granted) await load();
  else await withPrompt(handle, load, { kind: 'identity', origin }, (prompt) => clickClosing(prompt, 'prompt-approve'));
  await page.bringToFront();
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

const texts = (page: Page, selector = '[data-testid="mb-item"] [data-testid="mb-text"]') => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent));
const waitForText = (page: Page, text: string) =>
  page.waitForFunction((t) => [...document.querySelectorAll('[data-testid="mb-text"]')].some((n) => n.textContent === t), MUTATION, text);

async function postFrom(handle: BrowserHandle, page: Page, origin: string, text: string, firstWrite: boolean): Promise<void> {
  await page.bringToFront();
  await fill(page, 'mb-post-text', text);
  if (firstWrite) {
    await withPrompt(handle, () => click(page, 'mb-post-submit'), { kind: 'write', origin }, async (prompt) => {
      await click(prompt, 'prompt-remember');
      await clickClosing(prompt, 'prompt-approve');
    });
  } else {
    await click(page, 'mb-post-submit');
  }
  await waitForText(page, text);
}

describe('microblog', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('A posts, B follows A by profile link and sees it, B replies and A sees the reply; sorting and a second UI', async () => {
    const node = await startNodeCli();
    cleanup.push(() => node.stop());
    const server = await startStaticServer(path.join(REPO_ROOT, 'apps'));
    cleanup.push(() => server.close());

    const a = await launchBrowser('chromium');
    cleanup.push(() => a.close());
    const popupA = await openPopup(a);
    const alice = await createFirstIdentity(popupA, 'Alice');
    const network = await uiRequest(popupA, 'network.create', { name: 'Microblog', host: node.frontDoor, identity: alice, closed: true });
    const b = await launchBrowser('firefox');
    cleanup.push(() => b.close());
    const popupB = await openPopup(b);
    const bob = await createFirstIdentity(popupB, 'Bob');
    expect((await uiRequest(popupB, 'network.join', { link: network.invite, identity: bob })).status).toBe('online');

    // A posts.
    const pageA = await openApp(a, server.url('/microblog/index.html'), server.origin);
    expect(await pageA.$eval('[data-testid="mb-me"]', (n) => (n as HTMLElement).dataset.key)).toBe(alice);
    await postFrom(a, pageA, server.origin, 'Hello from Alice', true);
    const aliceLink = await pageA.$eval('[data-testid="mb-profile-link"]', (n) => n.textContent!);

    // B follows A by A's profile link and sees the post.
    const pageB = await openApp(b, server.url('/microblog/index.html'), server.origin);
    await fill(pageB, 'mb-follow-key', aliceLink);
    await click(pageB, 'mb-follow-submit');
    await waitForText(pageB, 'Hello from Alice');

    // A follows B back; B replies to A's post; the reply appears on A's side.
    const bobLink = await pageB.$eval('[data-testid="mb-profile-link"]', (n) => n.textContent!);
    await pageA.bringToFront();
    await fill(pageA, 'mb-follow-key', bobLink);
    await click(pageA, 'mb-follow-submit');
    await pageA.waitForSelector(`[data-testid="mb-followed"][data-key="${bob}"]`);
    await pageB.bringToFront();
    await pageB.$$eval('[data-testid="mb-item"]', (nodes) => {
      const target = nodes.find((n) => n.querySelector('[data-testid="mb-text"]')?.textContent === 'Hello from Alice');
      (target!.querySelector('[data-testid="mb-reply"]') as HTMLElement).click();
    });
    await postFrom(b, pageB, server.origin, 'Nice to meet you, Alice', true);
    await pageA.bringToFront();
    await waitForText(pageA, 'Nice to meet you, Alice');
    await screenshot(pageA, 'microblog-a');

    // A posts again (newer, no replies): chronological puts it first on B's side, conversations
    // first puts the post B replied to first.
    await postFrom(a, pageA, server.origin, 'Second post', false);
    await pageB.bringToFront();
    await waitForText(pageB, 'Second post');
    expect((await texts(pageB))[0]).toBe('Second post');
    await pageB.select('[data-testid="mb-sort"]', 'conversations');
    await pageB.waitForFunction(
      () => document.querySelector('[data-testid="mb-item"] [data-testid="mb-text"]')?.textContent === 'Hello from Alice',
      MUTATION,
    );
    const conversations = await texts(pageB);
    expect(conversations[0]).toBe('Hello from Alice');
    expect([...conversations].sort()).toEqual(['Hello from Alice', 'Nice to meet you, Alice', 'Second post']);
    await screenshot(pageB, 'microblog-b');

    // B's second UI over the same data: every post is there.
    const compact = await openApp(b, server.url('/microblog-compact/index.html'), server.origin, { granted: true });
    const refsCompact = await compact.$$eval('[data-testid="mc-item"]', (nodes) => nodes.map((n) => (n as HTMLElement).dataset.ref).sort());
    await pageB.bringToFront();
    const refsMain = await pageB.$$eval('[data-testid="mb-item"]', (nodes) => nodes.map((n) => (n as HTMLElement).dataset.ref).sort());
    expect(refsCompact).toEqual(refsMain);
    expect(refsCompact).toHaveLength(3);
    await compact.bringToFront();
    await screenshot(compact, 'microblog-compact');
    await compact.close();

    // Post to timeline: 50 posts from A's page, each timed until it shows in B's timeline.
    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const text = `timed post ${i}`;
      await pageA.evaluate((t) => (window as any).p2p.request({ method: 'p2p_putItem', params: { name: 'posts', id: `timed${Date.now()}`, item: { text: t } } }), text);
      const sent = Date.now();
      await waitForText(pageB, text);
      latencies.push(Date.now() - sent);
    }
    latencies.sort((x, y) => x - y);
    console.log(`post → B's timeline over ${latencies.length} posts: p50 ${latencies[24]} ms, p95 ${latencies[47]} ms, max ${latencies[49]} ms`);
    expect(latencies[49]).toBeLessThan(2000);

    // A fresh tab of the microblog over 1,000 cached posts (one envelope of 1,000 items).
    const doc = new Y.Doc();
    const items = doc.getMap('items');
    doc.transact(() => {
      for (let i = 0; i < 1000; i++) items.set(`bulk${i}`, { ts: 1_700_000_000_000 + i, text: `cached post ${i}` });
    });
    const update = Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64url');
    expect(await pageA.evaluate((u) => (window as any).p2p.request({ method: 'p2p_writeFeed', params: { name: 'posts', update: u } }), update)).toMatchObject({ seq: expect.any(Number) });
    const fresh = await a.browser.newPage();
    await fresh.bringToFront();
    const opened = Date.now();
    await fresh.goto(server.url('/microblog/index.html'), { waitUntil: 'load' });
    await fresh.waitForSelector('body[data-ready="true"]');
    const shown = Date.now() - opened;
    const count = await fresh.$$eval('[data-testid="mb-item"]', (nodes) => nodes.length);
    console.log(`fresh microblog tab: ${count} posts shown in ${shown} ms (navigation included)`);
    expect(count).toBe(1000);
  });
});
