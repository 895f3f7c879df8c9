/**
 * Apps published as feeds (docs/apps.md "Published apps"), end to end inside a private network
 * namespace, in both directions (Chromium → Firefox and Firefox → Chromium): A packs an app folder
 * (what `p2pb-node pack-app` does) and publishes it from the app page as Alice; B opens its
 * web+p2p:app link, sees the consent page with Alice's key and what the app reads and writes,
 * opens it, and it runs in the same sandbox as a built-in app, with window.p2p within its grant
 * (`app:<alice>/<id>`) and its manifest. A tampered app and a copy under another id are refused
 * with named errors. A new version that writes more asks again.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { openAppPackage, packApp } from '../../lib/apps/package.ts';
import { publishUpdates } from '../../lib/apps/published.ts';
import { toBase64url, utf8 } from '../../lib/util/bytes.ts';
import { MUTATION, clickClosing, uiRequest, withPrompt } from './flows.ts';
import { inFrame, p2pRequest, waitInFrame } from './frames.ts';
import { currentUrl, openExtensionPage, screenshot, waitForExtensionPage, type BrowserHandle, type BrowserKind } from './harness.ts';
import { twoPeopleInANetwork } from './node-cli.ts';

const FIXTURE = path.join(import.meta.dirname, 'fixtures/pub-probe');
const ID = 'pub-probe';
const SHELL = 'app-shell.html';

async function readFolder(dir: string, base = '', out = new Map<string, Uint8Array>()): Promise<Map<string, Uint8Array>> {
  for (const name of (await readdir(dir)).sort()) {
    const full = path.join(dir, name);
    if ((await stat(full)).isDirectory()) await readFolder(full, `${base}${name}/`, out);
    else out.set(`${base}${name}`, new Uint8Array(await readFile(full)));
  }
  return out;
}

/** The fixture app, optionally with its manifest changed. */
async function probePackage(manifest: Record<string, unknown> = {}): Promise<Uint8Array> {
  const files = await readFolder(FIXTURE);
  const original = JSON.parse(new TextDecoder().decode(files.get('manifest.json')!));
  files.set('manifest.json', utf8(JSON.stringify({ ...original, ...manifest })));
  return packApp(ID, files).bytes;
}

/** Publishes package bytes from A's app page ("Publish an app", a .p2papp file); returns the link it shows. */
async function publishFromAppPage(page: Page, bytes: Uint8Array): Promise<string> {
  await page.bringToFront();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="publish-identity"] option').length > 0, MUTATION);
  await page.evaluate(() => {
    const status = document.querySelector('[data-testid="publish-status"]')!;
    status.textContent = '';
  });
  await page.evaluate((b64: string) => {
    const bin = atob(b64);
    const data = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
    const input = document.querySelector('[data-testid="publish-file"]') as HTMLInputElement;
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], `${'pub-probe'}.p2papp`));
    input.files = transfer.files;
    input.dispatchEvent(new Event('change'));
  }, Buffer.from(bytes).toString('base64'));
  await page.waitForFunction(
    () => document.querySelector('[data-testid="publish-link"]') || document.querySelector('[data-testid="publish-status"].error'),
    MUTATION,
  );
  const error = await page.$eval('[data-testid="publish-status"]', (el) => (el.classList.contains('error') ? el.textContent : null));
  expect(error).toBeNull();
  return (await page.$eval('[data-testid="publish-link"]', (el) => el.textContent))!;
}

/** Writes raw Yjs updates to one of A's feeds (what a modified client could publish). */
async function writeRaw(popup: Page, identity: string, name: string, updates: Uint8Array[]): Promise<void> {
  for (const update of updates) await uiRequest(popup, 'feed.write', { identity, name, update: toBase64url(update) });
}

/** B clicks through: the link page (as a web+p2p: link opens it) lands on the app page. */
async function openLink(handle: BrowserHandle, popup: Page, link: string): Promise<{ host: Page; ms: number }> {
  const began = performance.now();
  // Chromium reports the tab's URL as it changes: wait for the app page itself (matching the link
  // page there would wait for a load of the link page that never comes once it has moved on).
  // Firefox: the harness probes documents, so catch the tab at either page and follow it.
  const opened = waitForExtensionPage(
    handle,
    (url) => url.includes(`/app.html?app=${ID}&author=`) || (handle.kind === 'firefox' && url.includes('/link.html?link=web%2Bp2p%3Aapp')),
    { newOnly: true },
  );
  await popup.evaluate(async (url: string) => {
    const api = (globalThis as any).browser ?? (globalThis as any).chrome;
    await api.tabs.create({ url, active: true });
  }, `link.html?link=${encodeURIComponent(link)}`);
  const host = await opened;
  await host.bringToFront();
  // The link page replaces itself with the app page (the page object follows its tab).
  await expect.poll(() => currentUrl(host).catch(() => ''), { timeout: 15_000 }).toContain(`/app.html?app=${ID}&author=`);
  await host.waitForSelector('[data-testid="consent"], [data-testid="app-error"]');
  return { host, ms: performance.now() - began };
}

/** A loopback web server that records every request: what the app must never reach. */
async function startRemote(): Promise<{ origin: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*', 'cache-control': 'no-store' });
    res.end('window.remote = true;');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const text = (page: Page, testid: string) => page.$eval(`[data-testid="${testid}"]`, (el) => el.textContent);
const feeds = (page: Page, testid: string) => page.$$eval(`[data-testid="${testid}"] li`, (els) => els.map((el) => (el as HTMLElement).dataset.feed));

describe('published apps', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it.each<[BrowserKind, BrowserKind]>([
    ['chromium', 'firefox'],
    ['firefox', 'chromium'],
  ])('A (%s) publishes an app; B (%s) sees who signed it and what it reads and writes, then runs it sandboxed', async (kindA, kindB) => {
    const { a, popupA, alice, b, popupB, bob } = await twoPeopleInANetwork('Apps', [kindA, kindB], cleanup);
    const origin = `app:${alice}/${ID}`;
    const remote = await startRemote();
    cleanup.push(() => remote.close());

    // A publishes the packed folder from the app page as Alice.
    const appPageA = await openExtensionPage(a, 'app.html');
    const link = await publishFromAppPage(appPageA, await probePackage());
    expect(link).toBe(`web+p2p:app/${alice}/${ID}`);

    // B opens the link: the consent page names the signer's key, the app and its feeds; nothing runs yet.
    const { host, ms: consentMs } = await openLink(b, popupB, link);
    expect(await text(host, 'consent-author')).toBe(alice);
    // What the signer calls itself, from its own signed statement, beside the key.
    await host.waitForFunction(() => document.querySelector('[data-testid="consent-signer-name"]')?.textContent === 'a key that calls itself “Alice”', MUTATION);
    expect(await text(host, 'consent-name')).toBe('Probe');
    expect(await text(host, 'consent-version')).toBe('1.0.0');
    expect(await feeds(host, 'consent-reads')).toEqual(['posts']);
    expect(await feeds(host, 'consent-writes')).toEqual(['pub.notes']);
    expect(await text(host, 'consent-origin')).toBe(origin);
    expect(await host.$('[data-testid="app-frame"]')).toBeNull();
    await screenshot(host, 'published-app-consent');

    // Open: the app asks for an identity; the prompt names the published app's own subject.
    const openedAt = performance.now();
    await withPrompt(b, () => host.click('[data-testid="consent-open"]'), { kind: 'identity', origin }, async (prompt) => {
      // The prompt shows what the app's manifest reads and writes, and who published it.
      expect(await prompt.$eval('[data-testid="prompt-app-reads"]', (el) => (el as HTMLElement).dataset.feeds)).toBe('posts');
      expect(await prompt.$eval('[data-testid="prompt-app-writes"]', (el) => (el as HTMLElement).dataset.feeds)).toBe('pub.notes');
      await clickClosing(prompt, 'prompt-approve');
    }, 'published-app-prompt');
    await host.bringToFront();
    await waitInFrame(b, host, SHELL, (key) => document.body?.dataset.key === key, bob);
    const runMs = performance.now() - openedAt;
    console.log(`[published-app ${kindA}→${kindB}] link to consent ${consentMs.toFixed(0)} ms; Open to running with identity (incl. prompt) ${runMs.toFixed(0)} ms`);
    await screenshot(host, 'published-app-running');

    // It runs the package's scripts in order, with its stylesheet and image, and nothing else.
    const probe = await inFrame<Record<string, unknown>>(b, host, SHELL, async (remoteOrigin: string) => {
      const g = globalThis as any;
      const injected = document.createElement('script');
      injected.nonce = 'p2pb-published-app'; // the public nonce alone must not be enough
      injected.textContent = 'window.injected = true;';
      document.head.append(injected);
      // eval in a later task of the page itself: the debugger's own evaluation may skip the CSP check.
      const evalBlocked = await new Promise((resolve) =>
        setTimeout(() => {
          try {
            (0, eval)('1');
            resolve(false);
          } catch (e: any) {
            resolve(e?.name === 'EvalError');
          }
        }),
      );
      let fetched = 'no';
      await fetch(`${remoteOrigin}/fetch`).then(() => (fetched = 'yes'), () => (fetched = 'blocked'));
      const script = document.createElement('script');
      script.src = `${remoteOrigin}/remote.js`;
      const scriptLoaded = await new Promise((resolve) => {
        script.onload = () => resolve('loaded');
        script.onerror = () => resolve('refused');
        document.head.append(script);
      });
      let storage = 'open';
      try {
        void localStorage.length;
      } catch {
        storage = 'denied';
      }
      const img = document.querySelector('[data-testid="probe-img"]') as HTMLImageElement;
      return {
        origin: self.origin,
        ran: document.body.dataset.ran,
        chromeRuntime: g.chrome?.runtime?.id ?? null,
        browserRuntime: g.browser?.runtime?.id ?? null,
        injected: g.injected === true,
        evalBlocked,
        fetched,
        scriptLoaded,
        storage,
        background: getComputedStyle(document.body).backgroundColor,
        image: img.complete && img.naturalWidth > 0,
        rtc: typeof g.RTCPeerConnection,
      };
    }, remote.origin);
    expect(probe).toEqual({
      origin: 'null',
      ran: 'after-util',
      chromeRuntime: null,
      browserRuntime: null,
      injected: false,
      evalBlocked: true,
      fetched: 'blocked',
      scriptLoaded: 'refused',
      storage: 'denied',
      background: 'rgb(240, 248, 255)',
      image: true,
      rtc: 'undefined',
    });
    // Nothing reached the server from the frame; the server itself answers (the control).
    expect(remote.hits).toEqual([]);
    expect(await (await fetch(`${remote.origin}/control`)).text()).toBe('window.remote = true;');

    // window.p2p within its grant and its manifest: an undeclared feed is refused in the tab; a
    // declared write asks, naming the published app.
    expect((await p2pRequest(b, host, SHELL, 'p2p_readFeed', { name: 'secrets' })).error?.code).toBe(4100);
    let write: Promise<{ result?: any; error?: any }> | undefined;
    await withPrompt(
      b,
      async () => {
        write = p2pRequest(b, host, SHELL, 'p2p_putItem', { name: 'pub.notes', id: 'n1', item: { ts: 1, text: 'hello from a published app' } });
      },
      { kind: 'write', origin },
      (prompt) => clickClosing(prompt, 'prompt-approve'),
    );
    expect((await write!).result?.seq).toBe(1);
    const granted = (await uiRequest(popupB, 'state.get')).grants.map((g: { origin: string }) => g.origin);
    expect(granted).toContain(origin);

    // Tampered: a chunk changed after the header, under its own id → refused by name, nothing runs.
    const good = await probePackage();
    const pkg = openAppPackage(good);
    const tamperedPkg = packApp('tampered', new Map(pkg.files)).bytes;
    const tamperedDoc = new Y.Doc();
    const tu = await publishUpdates(null, openAppPackage(tamperedPkg), tamperedPkg);
    for (const u of tu) Y.applyUpdate(tamperedDoc, u);
    let evil: Uint8Array | undefined;
    tamperedDoc.on('update', (u: Uint8Array) => (evil = u));
    const c0 = new Uint8Array(tamperedDoc.getMap<Uint8Array>('chunks').get('0')!);
    c0[c0.length - 5]! ^= 0x20;
    tamperedDoc.getMap('chunks').set('0', c0);
    await writeRaw(popupA, alice, 'apps/tampered', [...tu, evil!]);
    // Foreign: Alice's probe copied under another id (a package that says it is another app).
    await writeRaw(popupA, alice, 'apps/copied', await publishUpdates(null, pkg, good));
    for (const [id, code] of [['tampered', 'APP_PACKAGE_MISMATCH'], ['copied', 'APP_PACKAGE_MISMATCH']] as const) {
      const page = await openExtensionPage(b, `app.html?app=${id}&author=${alice}`);
      const error = await page.waitForSelector('[data-testid="app-error"]');
      expect(await error!.evaluate((el) => (el as HTMLElement).dataset.code)).toBe(code);
      expect(await page.$('[data-testid="app-frame"]')).toBeNull();
      await page.close();
    }

    // A large app (4 MiB of files: eight chunks, eight signed envelopes) travels and opens the same way.
    const bigFiles = await readFolder(FIXTURE);
    bigFiles.set('manifest.json', utf8(JSON.stringify({ name: 'Big probe', version: '1.0.0', reads: [], writes: [] })));
    bigFiles.set('img/big.bin', new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7919) % 251));
    const big = packApp('big-probe', bigFiles).bytes;
    const publishedAt = performance.now();
    await publishFromAppPage(appPageA, big);
    const publishMs = performance.now() - publishedAt;
    const openedBigAt = performance.now();
    const bigPage = await openExtensionPage(b, `app.html?app=big-probe&author=${alice}`);
    await bigPage.waitForSelector('[data-testid="consent"], [data-testid="app-error"]', { timeout: 60_000 });
    const bigMs = performance.now() - openedBigAt;
    expect(await bigPage.$eval('[data-testid="app-error"]', (el) => el.textContent).catch(() => null)).toBeNull();
    expect(await text(bigPage, 'consent-name')).toBe('Big probe');
    console.log(`[published-app ${kindA}→${kindB}] ${big.length} byte package: published in ${publishMs.toFixed(0)} ms, fetched and verified on B in ${bigMs.toFixed(0)} ms`);
    await bigPage.close();

    // The shell opened on its own (not in the host's sandboxed frame) runs nothing and waits for nothing.
    // (It stops itself, so it never fires load, which openExtensionPage waits for in Firefox: poll the new tab.)
    const before = new Set(await b.browser.pages());
    const shellUrl = `${b.baseUrl}app-shell.html`;
    await popupB.evaluate(async (url: string) => {
      const api = (globalThis as any).browser ?? (globalThis as any).chrome;
      await api.tabs.create({ url, active: true });
    }, shellUrl);
    const look = () => ({ href: location.href, p2p: typeof (window as any).p2p, text: document.documentElement.textContent });
    await expect
      .poll(async () => {
        for (const page of await b.browser.pages()) {
          if (before.has(page)) continue;
          const state = await Promise.race([page.evaluate(look), new Promise<null>((r) => setTimeout(() => r(null), 1000))]).catch(() => null);
          if (state?.href === shellUrl) return state;
        }
        return null;
      }, { timeout: 15_000 })
      .toEqual({ href: shellUrl, p2p: 'undefined', text: "This page runs only inside P2P Browser's app page." });

    // A new version that writes one more feed: B sees the consent again, the new feed marked.
    const linkV2 = await publishFromAppPage(appPageA, await probePackage({ version: '1.1.0', writes: ['pub.notes', 'pub.more'] }));
    expect(linkV2).toBe(link);
    // B's drive holds v1; opening the link again asks A's side for what is newer first.
    const updatedAt = performance.now();
    const { host: again } = await openLink(b, popupB, link);
    const updateMs = performance.now() - updatedAt;
    expect(await text(again, 'consent-version')).toBe('1.1.0');
    expect(await again.$$eval('[data-testid="consent-writes"] li.grown', (els) => els.map((el) => (el as HTMLElement).dataset.feed))).toEqual(['pub.more']);
    await again.click('[data-testid="consent-open"]');
    // Same subject, already granted: it sees Bob at once, no prompt.
    await waitInFrame(b, again, SHELL, (key) => document.body?.dataset.key === key, bob);
    console.log(`[published-app ${kindA}→${kindB}] reopening the link after an update: consent for v1.1.0 after ${updateMs.toFixed(0)} ms`);

    // B's launcher lists the app it opened from a link; "Forget" drops its consent and its grant,
    // so the link asks again.
    const launcher = await openExtensionPage(b, 'app.html');
    const entry = (await launcher.waitForSelector(`[data-testid="opened-app"][data-app="${ID}"]`))!;
    expect(await entry.evaluate((el) => el.querySelector('[data-testid="opened-open"]')!.textContent)).toBe('Probe');
    expect((await uiRequest<{ grants: { origin: string }[] }>(popupB, 'state.get')).grants.map((g) => g.origin)).toContain(origin);
    await entry.evaluate((el) => (el.querySelector('[data-testid="opened-forget"]') as HTMLElement).click());
    await launcher.waitForFunction((id: string) => !document.querySelector(`[data-testid="opened-app"][data-app="${id}"]`), {}, ID);
    expect((await uiRequest<{ grants: { origin: string }[] }>(popupB, 'state.get')).grants.map((g) => g.origin)).not.toContain(origin);
    const { host: asked } = await openLink(b, popupB, link);
    expect(await text(asked, 'consent-version')).toBe('1.1.0');
    expect(await asked.$('[data-testid="app-frame"]')).toBeNull();
  });
});
