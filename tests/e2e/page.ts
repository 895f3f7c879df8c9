/**
 * A plain web page that uses window.p2p, served by the static server in e2e tests, and the
 * calls tests make through it. Events it hears are recorded; tests wait for them (no polling:
 * background tabs get no animation frames and throttled timers).
 */
import type { Page } from 'puppeteer-core';

export const TEST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>p2p test page</title></head>
<body><h1>A web page</h1><script>
  // Discover the provider the EIP-6963 way and record everything the page hears.
  // Never assume window.p2p exists yet: Firefox may inject the provider after this script runs.
  window.__announced = [];
  window.__events = [];
  window.__received = [];
  let providerFound;
  window.providerReady = new Promise((resolve) => (providerFound = resolve));
  window.addEventListener('p2p:announceProvider', (e) => {
    window.__announced.push(e.detail.info.name);
    if (window.__announced.length === 1) setUp(e.detail.provider);
  });
  window.dispatchEvent(new Event('p2p:requestProvider'));
  function setUp(p2p) {
  window.addEventListener('message', (e) => { if (e.data && e.data.to === 'page') window.__received.push(e.data); });
  window.__waiters = [];
  p2p.on('identityChanged', (identity) => {
    window.__events.push(identity);
    window.__waiters = window.__waiters.filter((w) => !w());
  });
  // Resolves once the page has heard n identityChanged events (no polling: background tabs get
  // no animation frames and throttled timers).
  window.eventsHeard = (n) => new Promise((resolve) => {
    const done = () => window.__events.length >= n && (resolve(window.__events), true);
    if (!done()) window.__waiters.push(done);
  });
  // feedUpdate events, stamped with the time they arrived here.
  window.__feed = [];
  window.__feedWaiters = [];
  p2p.on('feedUpdate', (update) => {
    window.__feed.push({ ...update, at: Date.now() });
    window.__feedWaiters = window.__feedWaiters.filter((w) => !w());
  });
  window.feedUpdates = (n) => new Promise((resolve) => {
    const done = () => window.__feed.length >= n && (resolve(window.__feed.slice(0, n)), true);
    if (!done()) window.__feedWaiters.push(done);
  });
  // Resolves with the first feedUpdate of sequence \`seq\` (already heard, or when it comes).
  window.feedEvent = (seq) => new Promise((resolve) => {
    const done = () => { const e = window.__feed.find((u) => u.seq === seq); return e ? (resolve(e), true) : false; };
    if (!done()) window.__feedWaiters.push(done);
  });
  providerFound(p2p);
  }
  window.call = (method, params) => window.providerReady
    .then((p2p) => p2p.request(params === undefined ? { method } : { method, params }))
    .then((result) => ({ result }), (error) => ({ error: { code: error.code, message: error.message } }));
</script></body></html>`;

export type CallResult<T = any> = { result: T; error?: undefined } | { result?: undefined; error: { code: number | string; message: string } };

/** Starts `p2p.request` in the page without waiting (a prompt may have to be answered first). */
export async function startCall(page: Page, name: string, method: string, params?: unknown): Promise<void> {
  await page.evaluate(
    (n, m, p) => {
      (window as any)[n] = (window as any).call(m, p);
    },
    name,
    method,
    params as never,
  );
}
export const finishCall = <T = any>(page: Page, name: string): Promise<CallResult<T>> => page.evaluate((n) => (window as any)[n], name);

/** Calls `p2p.request` in the page and returns `{ result }` or `{ error: { code, message } }`. */
export async function call<T = any>(page: Page, method: string, params?: unknown): Promise<CallResult<T>> {
  return page.evaluate((m, p) => (window as any).call(m, p), method, params as never);
}
