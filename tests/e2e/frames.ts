/**
 * Driving an app inside its sandboxed frame (app.html?app=<id>) from a test. Chromium: through
 * puppeteer's frame. Firefox: WebDriver BiDi script.evaluate on the frame's browsing context,
 * which puppeteer does not list for moz-extension pages.
 */
import type { Page } from 'puppeteer-core';
import { clickClosing, withPrompt } from './flows.ts';
import { openExtensionPage, type BrowserHandle } from './harness.ts';

// ---------------------------------------------------------------------------------------------
// Running code inside the app frame

/** Evaluates `(fn)(arg)` in the frame of `page` whose URL contains `part`; the result goes through JSON. */
export async function inFrame<T>(handle: BrowserHandle, page: Page, part: string, fn: (arg: any) => unknown, arg: unknown = null): Promise<T> {
  const expression = `(async () => JSON.stringify(await (${fn.toString()})(${JSON.stringify(arg)})) ?? 'null')()`;
  if (handle.kind === 'chromium') {
    const frame = page.frames().find((f) => f !== page.mainFrame() && f.url().includes(part));
    if (!frame) throw new Error(`no frame with ${part}: ${page.frames().map((f) => f.url()).join(', ')}`);
    return JSON.parse((await frame.evaluate(expression)) as string) as T;
  }
  // puppeteer's BiDi page lists no child frames of a moz-extension page; BiDi itself does.
  const context = (page.mainFrame() as unknown as { browsingContext: { id: string; userContext: { browser: { session: BidiSession } } } }).browsingContext;
  const session = context.userContext.browser.session;
  const tree = await session.send('browsingContext.getTree', { root: context.id });
  const child = (tree.result.contexts[0]?.children ?? []).find((c: { url: string }) => c.url.includes(part));
  if (!child) throw new Error(`no frame with ${part}: ${JSON.stringify(tree.result.contexts[0]?.children ?? [])}`);
  const { result } = await session.send('script.evaluate', { expression, target: { context: child.context }, awaitPromise: true, resultOwnership: 'none' });
  if (result.type !== 'success') throw new Error(`evaluate in frame failed: ${result.exceptionDetails?.text ?? JSON.stringify(result)}`);
  return JSON.parse(result.result.value) as T;
}
type BidiSession = { send(method: string, params: object): Promise<{ result: any }> };

/** URLs of the frames inside `page` (what the frame holds now). */
export async function frameUrls(handle: BrowserHandle, page: Page): Promise<string[]> {
  if (handle.kind === 'chromium') return page.frames().filter((f) => f !== page.mainFrame()).map((f) => f.url());
  const context = (page.mainFrame() as unknown as { browsingContext: { id: string; userContext: { browser: { session: BidiSession } } } }).browsingContext;
  const tree = await context.userContext.browser.session.send('browsingContext.getTree', { root: context.id });
  return (tree.result.contexts[0]?.children ?? []).map((c: { url: string }) => c.url);
}

/** Polls a condition in the frame until it holds (the frame may still be loading). */
export async function waitInFrame(handle: BrowserHandle, page: Page, part: string, fn: (arg: any) => unknown, arg: unknown = null, timeout = 15_000): Promise<void> {
  const until = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      if (await inFrame<boolean>(handle, page, part, fn, arg)) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`waitInFrame(${part}) timed out: ${String(last ?? fn)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A window.p2p request from inside the frame: { result } or { error: { code, message } }. */
export const p2pRequest = (handle: BrowserHandle, page: Page, part: string, method: string, params?: unknown) =>
  inFrame<{ result?: any; error?: { code: number | string; message: string } }>(
    handle,
    page,
    part,
    async ({ method, params }) => {
      try {
        const p2p = (window as any).p2p;
        return { result: await p2p.request(params === null ? { method } : { method, params }) };
      } catch (e: any) {
        return { error: { code: e.code, message: e.message } };
      }
    },
    { method, params: params ?? null },
  );

/** Opens app.html?app=<id> and answers its identity prompt (the app asks for one on load). */
export async function openApp(handle: BrowserHandle, id: string, answer: 'prompt-approve' | 'prompt-reject', during?: (host: Page) => Promise<void>): Promise<Page> {
  let host: Page | undefined;
  await withPrompt(
    handle,
    async () => {
      host = await openExtensionPage(handle, `app.html?app=${id}`);
    },
    { kind: 'identity', origin: `app:${id}` },
    async (prompt) => {
      if (during) await during(host!);
      await clickClosing(prompt, answer);
    },
    `app-${id}-prompt`,
  );
  await host!.bringToFront();
  return host!;
}


/** Opens app.html?app=<id> for an app already granted (no prompt), and waits until it is ready. */
export async function openGrantedApp(handle: BrowserHandle, id: string): Promise<Page> {
  const host = await openExtensionPage(handle, `app.html?app=${id}`);
  await host.bringToFront();
  await waitInFrame(handle, host, `/apps/${id}/`, () => document.body?.dataset.ready === 'true');
  return host;
}

/** A driver for one app in one host page: DOM steps by data-testid, run inside the frame. */
export function appDriver(handle: BrowserHandle, host: Page, id: string) {
  const part = `/apps/${id}/`;
  return {
    host,
    ready: () => waitInFrame(handle, host, part, () => document.body?.dataset.ready === 'true'),
    fill: (testid: string, value: string) =>
      inFrame(handle, host, part, ({ testid, value }) => {
        const el = document.querySelector(`[data-testid="${testid}"]`) as HTMLInputElement;
        el.value = value;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        return true;
      }, { testid, value }),
    click: (testid: string) =>
      inFrame(handle, host, part, (t) => {
        (document.querySelector(`[data-testid="${t}"]`) as HTMLElement).click();
        return true;
      }, testid),
    /** Runs `fn(arg)` in the frame and returns its (JSON) result. */
    run: <T>(fn: (arg: any) => unknown, arg: unknown = null) => inFrame<T>(handle, host, part, fn, arg),
    /** Waits until `fn(arg)` is truthy in the frame. */
    until: (fn: (arg: any) => unknown, arg: unknown = null, timeout?: number) => waitInFrame(handle, host, part, fn, arg, timeout),
    request: (method: string, params?: unknown) => p2pRequest(handle, host, part, method, params),
  };
}
export type AppDriver = ReturnType<typeof appDriver>;
