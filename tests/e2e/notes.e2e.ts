/**
 * Collaborative notes end to end, inside a private network namespace: A (Chromium) and B
 * (Firefox) edit one note, each through their own signed feed; both end with one merged text,
 * also after editing at the same moment. Served as web pages (Yjs from the extension's build).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { click, clickClosing, createFirstIdentity, fill, openPopup, uiRequest, withPrompt, MUTATION } from './flows.ts';
import { EXTENSION_BUILDS, REPO_ROOT, launchBrowser, screenshot, startStaticServer, type BrowserHandle, type Route } from './harness.ts';
import { startNodeCli } from './node-cli.ts';

function notesRoutes(): Record<string, Route> {
  const dir = path.join(REPO_ROOT, 'apps/notes');
  const routes: Record<string, Route> = { '/vendor-yjs.js': { body: readFileSync(path.join(EXTENSION_BUILDS.chromium, 'vendor-yjs.js')), contentType: 'text/javascript' } };
  for (const name of readdirSync(dir)) routes[`/notes/${name === 'index.html' ? 'index.html' : name}`] = { body: readFileSync(path.join(dir, name)), contentType: name.endsWith('.js') ? 'text/javascript' : name.endsWith('.css') ? 'text/css' : name.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/json' };
  return routes;
}

async function openNotes(handle: BrowserHandle, url: string, origin: string): Promise<Page> {
  const page = await handle.browser.newPage();
  await withPrompt(handle, () => page.goto(url, { waitUntil: 'load' }).then(() => page.bringToFront()), { kind: 'identity', origin }, (prompt) => clickClosing(prompt, 'prompt-approve'));
  await page.bringToFront();
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

/** Types `text` at `at` ('start' or 'end') as one edit (one input event). */
const edit = (page: Page, text: string, at: 'start' | 'end') =>
  page.$eval(
    '[data-testid="notes-editor"]',
    (el, t, where) => {
      const area = el as HTMLTextAreaElement;
      area.value = where === 'start' ? t + area.value : area.value + t;
      area.dispatchEvent(new Event('input'));
    },
    text,
    at,
  );
const value = (page: Page) => page.$eval('[data-testid="notes-editor"]', (el) => (el as HTMLTextAreaElement).value);
const waitForValue = (page: Page, predicate: string) =>
  page.waitForFunction(`(() => { const v = document.querySelector('[data-testid="notes-editor"]').value; return ${predicate}; })()`, MUTATION);

describe('notes', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('A (chromium) and B (firefox) edit one note, each through their own feed, and see one merged text', async () => {
    const node = await startNodeCli();
    cleanup.push(() => node.stop());
    const server = await startStaticServer(notesRoutes());
    cleanup.push(() => server.close());
    const a = await launchBrowser('chromium');
    cleanup.push(() => a.close());
    const popupA = await openPopup(a);
    const alice = await createFirstIdentity(popupA, 'Alice');
    const network = await uiRequest(popupA, 'network.create', { name: 'Notes', host: node.frontDoor, identity: alice, closed: true });
    const b = await launchBrowser('firefox');
    cleanup.push(() => b.close());
    const popupB = await openPopup(b);
    const bob = await createFirstIdentity(popupB, 'Bob');
    expect((await uiRequest(popupB, 'network.join', { link: network.invite, identity: bob })).status).toBe('online');

    // A opens the note with B as collaborator and writes the first line.
    const pageA = await openNotes(a, server.url('/notes/index.html'), server.origin);
    await fill(pageA, 'notes-with', bob);
    await click(pageA, 'notes-open');
    await pageA.waitForSelector('body[data-note="notes.shared"]');
    await withPrompt(a, () => edit(pageA, 'Plan: ', 'end'), { kind: 'write', origin: server.origin }, async (prompt) => {
      await click(prompt, 'prompt-remember');
      await clickClosing(prompt, 'prompt-approve');
    });
    await pageA.waitForSelector('[data-testid="notes-status"]:not(:empty)');

    // B opens it with A, sees A's text, and adds to it.
    const pageB = await openNotes(b, server.url('/notes/index.html'), server.origin);
    await fill(pageB, 'notes-with', alice);
    await click(pageB, 'notes-open');
    await waitForValue(pageB, "v === 'Plan: '");
    await withPrompt(b, () => edit(pageB, 'picnic.', 'end'), { kind: 'write', origin: server.origin }, async (prompt) => {
      await click(prompt, 'prompt-remember');
      await clickClosing(prompt, 'prompt-approve');
    });
    await pageA.bringToFront();
    await waitForValue(pageA, "v === 'Plan: picnic.'");

    // Both edit at once, at opposite ends: both end with the same merged text.
    await Promise.all([edit(pageA, '[A] ', 'start'), edit(pageB, ' [B]', 'end')]);
    await waitForValue(pageA, "v.includes('[A]') && v.includes('[B]')");
    await pageB.bringToFront();
    await waitForValue(pageB, "v.includes('[A]') && v.includes('[B]')");
    expect(await value(pageA)).toBe('[A] Plan: picnic. [B]');
    expect(await value(pageB)).toBe(await value(pageA));
    await screenshot(pageB, 'notes-b');
    await pageA.bringToFront();
    await screenshot(pageA, 'notes-a');

    // Each edit is in its author's own feed: A's feed holds A's text and what it built on.
    const feedA = await uiRequest(popupB, 'feed.read', { identity: bob, author: alice, name: 'notes.shared' });
    expect(feedA.seq).toBeGreaterThanOrEqual(2);
  });
});
