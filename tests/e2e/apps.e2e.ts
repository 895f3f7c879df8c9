/**
 * The sandboxed app runtime, end to end in Chromium and Firefox (docs/apps.md).
 *
 * `app.html?app=hello` hosts apps/hello in a sandboxed frame. The test proves, from inside that
 * frame, that it has an opaque origin, no extension API, no way to the vault (chrome.storage,
 * the extension's IndexedDB, localStorage), no eval or inline or remote script, no fetch, image,
 * form or navigation to anywhere, and no WebRTC; that it cannot name its own grant subject; that
 * a grant to one app is not a grant to another; that a feed the manifest does not declare is
 * refused; and that the app document opened outside its frame runs no app code. Each check of
 * the frame also runs on a plain web page (the control), where it must come out the other way,
 * so no check can pass by being unable to see.
 *
 * Probes run by evaluating code in the frame (Chromium: puppeteer's frame; Firefox: WebDriver
 * BiDi script.evaluate on the frame's browsing context, which puppeteer does not list for
 * moz-extension pages). Debugger evaluation may skip the eval CSP check, so eval runs in a
 * later task of the page itself (setTimeout), outside the evaluation.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { click, clickClosing, createFirstIdentity, openPopup, withPrompt } from './flows.ts';
import { frameUrls, inFrame, openApp, p2pRequest, waitInFrame } from './frames.ts';
import { browserKinds, launchBrowser, openExtensionPage, screenshot, waitForExtensionPage, type BrowserHandle, type BrowserKind } from './harness.ts';

/** Optional: run against a build in another folder (e.g. while another suite uses .output). */
function extensionPath(kind: BrowserKind): string | undefined {
  const root = process.env.P2PB_E2E_OUTPUT;
  return root ? path.resolve(root, kind === 'chromium' ? 'chrome-mv3' : 'firefox-mv3') : undefined;
}

/** A web server on loopback that records every request: the "remote" an app must never reach. */
async function startRemote(): Promise<{ origin: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const js = (req.url ?? '').startsWith('/remote.js');
    res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html', 'access-control-allow-origin': '*', 'cache-control': 'no-store' });
    res.end(js ? 'window.__remote = 1;' : '<!doctype html><title>control</title><p>a plain web page</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The host reloads the app's document (what a fresh tab would do) and waits for it to be ready. */
async function reloadApp(handle: BrowserHandle, page: Page, part: string, tag: string): Promise<void> {
  await page.evaluate((t: string) => {
    const frame = document.querySelector('iframe')!;
    frame.src = `${frame.src.split('?')[0]}?${t}`;
  }, tag);
  await waitInFrame(handle, page, `${part}index.html?${tag}`, () => document.body?.dataset.ready === 'true');
}

/**
 * Opens an app document in a tab of its own and reports whether any app code ran there. The
 * frame script stops such a document, so it never fires `load`, which the harness's
 * openExtensionPage waits for in Firefox: this opens it with tabs.create and polls instead.
 */
async function openAloneAndLook(handle: BrowserHandle, opener: Page, file: string) {
  const url = `${handle.baseUrl}${file}`;
  const before = new Set(await handle.browser.pages());
  await opener.evaluate((u: string) => {
    const api = (globalThis as any).browser ?? (globalThis as any).chrome;
    return api.tabs.create({ url: u, active: true }).then(() => undefined);
  }, url);
  const look = () => ({ href: location.href, started: document.body?.dataset.started ?? null, p2p: typeof (window as any).p2p, text: document.documentElement.textContent });
  const until = Date.now() + 15_000;
  for (;;) {
    for (const page of await handle.browser.pages()) {
      if (before.has(page)) continue;
      const state = await Promise.race([page.evaluate(look), new Promise<null>((r) => setTimeout(() => r(null), 1000))]).catch(() => null);
      if (state?.href === url && state.text) {
        await new Promise((r) => setTimeout(r, 500)); // any app script would have run by now
        return Promise.race([page.evaluate(look), new Promise<null>((r) => setTimeout(() => r(null), 1000))]).then((s) => s ?? state);
      }
    }
    if (Date.now() > until) throw new Error(`${file} did not open`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Everything an app should not be able to do, tried from where the code runs. Returns what
 * happened; the caller checks it came out one way in the app frame and the other way on a web
 * page. Requests to `remote` carry `from=<tag>` so the server's log says who reached it.
 */
async function escapeAttempts({ remote, tag }: { remote: string; tag: string }) {
  const w = window as any;
  const r: Record<string, unknown> = {};
  const attempt = (name: string, fn: () => unknown) => {
    try {
      const v = fn();
      r[name] = v === undefined ? 'undefined' : v;
    } catch (e: any) {
      r[name] = `throws ${e?.name}`;
    }
  };
  const settle = (name: string, p: Promise<unknown>, ms = 3000) =>
    Promise.race([p, new Promise((res) => setTimeout(() => res('timeout'), ms))]).then(
      (v) => void (r[name] = v),
      (e: any) => void (r[name] = `throws ${e?.name}`),
    );
  attempt('origin', () => self.origin);
  attempt('chromeRuntimeId', () => w.chrome?.runtime?.id ?? null);
  attempt('chromeStorage', () => typeof w.chrome?.storage);
  // Chromium defines `browser` (an alias of `chrome`) even where it carries no API.
  attempt('browser', () => (w.browser === undefined ? 'undefined' : `keys: ${Object.keys(w.browser).join(',')}`));
  attempt('browserRuntime', () => typeof w.browser?.runtime);
  attempt('browserStorage', () => typeof w.browser?.storage);
  attempt('localStorage', () => (localStorage.setItem('probe', '1'), 'ok'));
  attempt('cookie', () => (document.cookie = 'probe=1', 'ok'));
  attempt('topLocation', () => String(top!.location.href).slice(0, 8));
  attempt('rtc', () => typeof w.RTCPeerConnection);
  // A fresh realm would hand WebRTC back: an about:blank frame is one on a web page.
  const blank = document.createElement('iframe');
  document.body.append(blank);
  attempt('rtcInBlankFrame', () => typeof (blank.contentWindow as any).RTCPeerConnection);
  blank.remove();
  await settle(
    'indexedDBOpen',
    new Promise((res) => {
      const req = indexedDB.open('p2pb-engine');
      req.onsuccess = () => (req.result.close(), res('opened'));
      req.onerror = () => res(`error ${req.error?.name}`);
    }),
  );
  await settle('indexedDBList', indexedDB.databases().then((dbs) => dbs.map((d) => d.name)));
  await settle('fetch', fetch(`${remote}/fetch?from=${tag}`).then((x) => `status ${x.status}`));
  await settle(
    'image',
    new Promise((res) => {
      const img = new Image();
      img.onload = () => res('loaded');
      img.onerror = () => res('error');
      img.src = `${remote}/image?from=${tag}`;
    }),
  );
  await settle(
    'remoteScript',
    new Promise((res) => {
      const s = document.createElement('script');
      s.src = `${remote}/remote.js?from=${tag}`;
      s.onload = () => res(`loaded, ran: ${w.__remote === 1}`);
      s.onerror = () => res('error');
      document.head.append(s);
    }),
  );
  const inline = document.createElement('script');
  inline.textContent = 'window.__inline = 1;';
  document.head.append(inline);
  r.inlineScript = w.__inline === 1 ? 'ran' : 'blocked';
  // Code the page itself runs later (not the debugger's evaluation): eval, Function, string timers.
  await new Promise<void>((res) =>
    setTimeout(() => {
      try {
        r.eval = `ran: ${(0, eval)('1 + 1')}`;
      } catch (e: any) {
        r.eval = `throws ${e?.name}`;
      }
      try {
        r.newFunction = `ran: ${new Function('return 2')()}`;
      } catch (e: any) {
        r.newFunction = `throws ${e?.name}`;
      }
      try {
        (setTimeout as (code: string, ms: number) => void)('window.__stringTimer = 1', 0);
      } catch {
        // Firefox may throw; Chromium drops it silently.
      }
      setTimeout(() => {
        r.stringTimer = w.__stringTimer === 1 ? 'ran' : 'blocked';
        res();
      }, 100);
    }, 0),
  );
  return r;
}

/**
 * A form that would send data away: with allow-forms the submit event fires; the request must
 * not leave. Answers right after requestSubmit (which fires the event synchronously), before a
 * navigation could land; where the form does go (the control), the page is replaced after.
 */
function formAttempt({ remote, tag }: { remote: string; tag: string }) {
  const form = document.createElement('form');
  form.action = `${remote}/form`;
  form.method = 'get';
  const input = document.createElement('input');
  input.name = 'from';
  input.value = tag;
  form.append(input);
  let submitted = false;
  form.addEventListener('submit', () => (submitted = true));
  document.body.append(form);
  form.requestSubmit();
  return { submitted };
}

/** Tries to navigate the document it runs in; Firefox throws right away, Chromium fails later. */
function navigateAttempt(url: string): string {
  try {
    location.href = url;
    return 'started';
  } catch (e: any) {
    return `throws ${e?.name}`;
  }
}

describe.each(browserKinds())('app runtime in %s', (kind) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('hello runs in a sandboxed frame that reaches nothing but window.p2p, with grants of its own', async () => {
    const timings: Record<string, number> = {};
    let t = Date.now();
    const lap = (name: string) => {
      timings[name] = Date.now() - t;
      t = Date.now();
    };
    const remote = await startRemote();
    cleanup.push(() => remote.close());
    const handle = await launchBrowser(kind, { extensionPath: extensionPath(kind) });
    cleanup.push(() => handle.close());
    const popup = await openPopup(handle);
    const alice = await createFirstIdentity(popup, 'Alice');
    lap('launch + identity');

    // The popup's Apps button opens the list of bundled apps in a tab.
    const listed = waitForExtensionPage(handle, 'app.html', { newOnly: true });
    await click(popup, 'open-apps');
    const list = await listed;
    await list.waitForSelector('[data-testid="app-link"][data-app="microblog"]');
    expect((await list.$$eval('[data-testid="app-link"]', (nodes) => nodes.map((n) => (n as HTMLElement).dataset.app))).sort()).toEqual(
      ['hello', 'microblog', 'microblog-compact', 'notes'],
    );
    await list.close();

    // --- hello asks for an identity; the prompt names the app, not a web origin.
    const HELLO = '/apps/hello/';
    const hello = await openApp(handle, 'hello', 'prompt-approve');
    expect(await hello.$eval('[data-testid="app-origin"]', (n) => n.textContent)).toBe('app:hello');
    await waitInFrame(handle, hello, HELLO, () => document.body?.dataset.ready === 'true');
    const shown = await inFrame<{ key: string; name: string }>(handle, hello, HELLO, () => ({
      key: document.querySelector('[data-testid="hello-key"]')!.textContent,
      name: document.querySelector('[data-testid="hello-name"]')!.textContent,
    }));
    expect(shown).toEqual({ key: alice, name: 'Alice' });
    await screenshot(hello, 'app-hello');
    lap('hello granted and shown');

    // --- From inside the frame: nothing but window.p2p.
    const inside = await inFrame<Record<string, unknown>>(handle, hello, HELLO, escapeAttempts, { remote: remote.origin, tag: 'frame' });
    // --- The same attempts on a plain web page (the control) must succeed, or the check is blind.
    const control = await handle.browser.newPage();
    cleanup.push(() => control.close().catch(() => {}));
    await control.goto(`${remote.origin}/control.html`, { waitUntil: 'load' });
    const outside = JSON.parse(
      (await control.evaluate(`(async () => JSON.stringify(await (${escapeAttempts.toString()})(${JSON.stringify({ remote: remote.origin, tag: 'control' })})))()`)) as string,
    ) as Record<string, unknown>;
    await hello.bringToFront();
    console.log(`${kind} app frame:`, JSON.stringify(inside), `\n${kind} web page control:`, JSON.stringify(outside));

    expect(inside.origin).toBe('null');
    expect(outside.origin).toBe(remote.origin);
    // No extension API at all: not chrome.runtime, not chrome.storage (the vault), not browser.
    expect(inside.chromeRuntimeId).toBeNull();
    expect(inside.chromeStorage).toBe('undefined');
    expect(inside.browserRuntime).toBe('undefined');
    expect(inside.browserStorage).toBe('undefined');
    if (kind === 'firefox') expect(inside.browser).toBe('undefined');
    // No storage of any origin: the vault's IndexedDB, localStorage, cookies all throw.
    expect(inside.indexedDBOpen).toMatch(/^throws SecurityError|^error SecurityError/);
    expect(inside.indexedDBList).toMatch(/^throws SecurityError/);
    expect(inside.localStorage).toMatch(/^throws SecurityError/);
    expect(inside.cookie).toMatch(/^throws SecurityError/);
    expect([outside.indexedDBOpen, outside.localStorage, outside.cookie]).toEqual(['opened', 'ok', 'ok']);
    // Not the page around it either.
    expect(inside.topLocation).toMatch(/^throws SecurityError/);
    // No remote or inline code, no eval.
    expect(inside.remoteScript).toBe('error');
    expect(outside.remoteScript).toBe('loaded, ran: true');
    expect(inside.inlineScript).toBe('blocked');
    expect(outside.inlineScript).toBe('ran');
    expect(inside.eval).toBe('throws EvalError');
    expect(inside.newFunction).toBe('throws EvalError');
    expect(inside.stringTimer).toBe('blocked');
    expect([outside.eval, outside.newFunction, outside.stringTimer]).toEqual(['ran: 2', 'ran: 2', 'ran']);
    // Nothing sent anywhere: fetch, image, form; WebRTC is gone.
    expect(inside.fetch).toMatch(/^throws TypeError/);
    expect(outside.fetch).toBe('status 200');
    expect(inside.image).toBe('error');
    expect(inside.rtc).toBe('undefined');
    expect(outside.rtc).toBe('function');
    expect(inside.rtcInBlankFrame).toBe('throws SecurityError'); // nested frames are sandboxed too
    expect(outside.rtcInBlankFrame).toBe('function');
    expect(remote.hits.filter((h) => h.includes('from=frame'))).toEqual([]);
    expect(remote.hits.filter((h) => h.includes('from=control')).map((h) => h.split('?')[0]).sort()).toEqual(['/fetch', '/image', '/remote.js']);
    lap('escape attempts + control');

    // --- The frame cannot name its grant subject: any extra key (an origin) and the host drops it.
    const forged = await inFrame<{ answered: boolean }>(handle, hello, HELLO, async () => {
      const id = 'forged-1';
      const answered = new Promise<boolean>((res) => {
        window.addEventListener('message', (e) => e.data?.id === id && res(true));
        setTimeout(() => res(false), 1500);
      });
      parent.postMessage({ channel: 'p2pb', v: 1, to: 'bridge', id, method: 'p2p_getIdentity', origin: 'app:other' }, '*');
      return { answered: await answered };
    });
    expect(forged.answered).toBe(false);
    // A feed its manifest does not declare is refused before it leaves the tab.
    const undeclared = await p2pRequest(handle, hello, HELLO, 'p2p_readFeed', { name: 'posts' });
    expect(undeclared.error?.code).toBe(4100);
    expect(undeclared.error?.message).toMatch(/does not declare feed "posts"/);
    lap('forged subject + undeclared feed');

    // --- Another app gets its own prompt: hello's grant does not carry over. While its prompt
    // is open, it sees no identity; refused, it still has none, and hello keeps its own.
    const OTHER = 'microblog-compact';
    const other = await openApp(handle, OTHER, 'prompt-reject', async (host) => {
      await waitInFrame(handle, host, `/apps/${OTHER}/`, () => typeof (window as any).p2p === 'object');
      expect((await p2pRequest(handle, host, `/apps/${OTHER}/`, 'p2p_getIdentity')).result).toBeNull();
    });
    expect(await other.$eval('[data-testid="app-origin"]', (n) => n.textContent)).toBe(`app:${OTHER}`);
    expect((await p2pRequest(handle, other, `/apps/${OTHER}/`, 'p2p_getIdentity')).result).toBeNull();
    expect((await p2pRequest(handle, other, `/apps/${OTHER}/`, 'p2p_sign', { message: 'as hello?' })).error?.code).toBe(4100);
    expect((await p2pRequest(handle, hello, HELLO, 'p2p_getIdentity')).result?.publicKey).toBe(alice);
    lap('second app, own grant');

    // --- The frame cannot navigate itself: not to the extension's privileged pages, not to a
    // remote page (measured: both browsers refuse any navigation the frame starts; the host's
    // frame-src also names only the app's folder), and it cannot send a form anywhere (the submit
    // event fires: allow-forms; the request does not leave: form-action 'none'). A failed attempt
    // may leave Chromium's frame on an error page, so the host reloads the app between attempts
    // (a navigation the host starts works: that is the control).
    const toPopup = await inFrame<string>(handle, hello, HELLO, navigateAttempt, '/popup.html?view=tab');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await frameUrls(handle, hello)).filter((u) => u.includes('popup.html'))).toEqual([]);
    await reloadApp(handle, hello, HELLO, 'after-popup');
    expect((await p2pRequest(handle, hello, HELLO, 'p2p_getIdentity')).result?.publicKey).toBe(alice);
    const toRemote = await inFrame<string>(handle, hello, HELLO, navigateAttempt, `${remote.origin}/navigated?from=frame`);
    await control.evaluate((remote: string) => void (location.href = `${remote}/navigated?from=control`), remote.origin);
    await new Promise((r) => setTimeout(r, 1000));
    await reloadApp(handle, hello, HELLO, 'after-remote');
    expect((await inFrame<{ submitted: boolean }>(handle, hello, HELLO, formAttempt, { remote: remote.origin, tag: 'frame' })).submitted).toBe(true);
    await control.waitForFunction(() => document.readyState === 'complete');
    expect((await control.evaluate(formAttempt, { remote: remote.origin, tag: 'control' })).submitted).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(remote.hits.filter((h) => h.includes('from=frame'))).toEqual([]);
    expect(remote.hits.filter((h) => h.startsWith('/navigated?from=control') || h.startsWith('/form?from=control'))).toHaveLength(2);
    console.log(`${kind} frame navigation: to popup.html ${toPopup}, to remote ${toRemote}; remote server saw:`, JSON.stringify(remote.hits));
    lap('navigation + form');

    // --- The app document opened on its own (outside app.html) runs none of the app's code.
    const state = await openAloneAndLook(handle, popup, 'apps/hello/index.html');
    console.log(`${kind} app document opened alone:`, JSON.stringify(state));
    expect(state.started).toBeNull();
    expect(state.p2p).toBe('undefined');
    expect(state.text).toMatch(/runs only inside P2P Browser/);
    lap('app document alone');
    console.log(`${kind} timings (ms):`, JSON.stringify(timings));
  });
});
