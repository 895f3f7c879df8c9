/**
 * Foundation, end to end, in headless Chromium and Firefox with the real built extension:
 * the vault in the popup, grants and prompts for web pages, page signatures verified by
 * node:crypto alone, identity switching, a stopped service worker, and forged bridge messages.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { MUTATION, click, clickClosing, clickSelector, createFirstIdentity, createIdentity, fill, openPopup, withPrompt } from './flows.ts';
import {
  launchBrowser,
  screenshot,
  startStaticServer,
  stopServiceWorker,
  type BrowserHandle,
  type BrowserKind,
  type StaticServer,
} from './harness.ts';

import { PASSPHRASE } from './flows.ts';
import { TEST_PAGE, call, finishCall, startCall } from './page.ts';

/** Independent of the project's code: base58btc (did:key "z…") → raw ed25519 public key. */
function rawKeyFromText(text: string): Buffer {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  expect(text[0]).toBe('z');
  let n = 0n;
  for (const ch of text.slice(1)) n = n * 58n + BigInt(alphabet.indexOf(ch));
  const bytes = Buffer.from(n.toString(16).padStart(68, '0'), 'hex');
  expect([...bytes.subarray(0, 2)]).toEqual([0xed, 0x01]); // multicodec ed25519-pub
  return bytes.subarray(2);
}

/** docs/signatures.md, written out again with node:crypto: "P2PB-SIG-V1" 0x00 len(ctx) ctx payload. */
function verifyPageSignature(publicKey: string, context: string, origin: string, message: string, signature: string): boolean {
  const originBytes = Buffer.from(origin, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(originBytes.length);
  const payload = Buffer.concat([length, originBytes, Buffer.from(message, 'utf8')]);
  const signed = Buffer.concat([Buffer.from('P2PB-SIG-V1', 'ascii'), Buffer.from([0, context.length]), Buffer.from(context, 'ascii'), payload]);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), rawKeyFromText(publicKey)]);
  return verify(null, signed, createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(signature, 'base64url'));
}

const browsers: BrowserKind[] = ['chromium', 'firefox'];

describe.each(browsers)('foundation in %s', (kind) => {
  let handle: BrowserHandle | undefined;
  let server: StaticServer | undefined;
  afterEach(async () => {
    await handle?.close();
    await server?.close();
    handle = undefined;
    server = undefined;
  });

  it('creates an identity with a passphrase, locks, refuses a wrong passphrase without losing anything, unlocks', async () => {
    handle = await launchBrowser(kind);
    const popup = await openPopup(handle);
    await popup.waitForSelector('[data-testid="setup"]');
    await screenshot(popup, 'popup-1-setup');
    const id = await createFirstIdentity(popup, 'Alice');
    expect(id).toMatch(/^z6Mk/);
    await createIdentity(popup, 'Alice at work');
    await screenshot(popup, 'popup-2-identities');

    await click(popup, 'lock');
    await popup.waitForSelector('[data-testid="unlock"]');
    await screenshot(popup, 'popup-3-locked');

    await fill(popup, 'unlock-passphrase', 'not my passphrase');
    await click(popup, 'unlock-submit');
    await popup.waitForFunction(() => document.querySelector('[data-testid="unlock-error"]')?.textContent?.includes('Wrong passphrase'), MUTATION);
    await screenshot(popup, 'popup-4-wrong-passphrase');
    // Still locked, and the vault is intact: the right passphrase brings back both identities.
    expect(await popup.$('[data-testid="identity"]')).toBeNull();

    await fill(popup, 'unlock-passphrase', PASSPHRASE);
    await click(popup, 'unlock-submit');
    await popup.waitForFunction(() => document.querySelectorAll('[data-testid="identity"]').length === 2, MUTATION);
    const ids = await popup.$$eval('[data-testid="identity"]', (els) => els.map((e) => (e as HTMLElement).dataset.id));
    expect(ids).toContain(id);
    const names = await popup.$$eval('[data-testid="identity-name"]', (els) => els.map((e) => e.textContent));
    expect(names.sort()).toEqual(['Alice', 'Alice at work']);

    // Rename and delete with confirmation.
    const work = ids.find((x) => x !== id)!;
    await clickSelector(popup, `[data-id="${work}"] [data-testid="identity-rename"]`);
    await fill(popup, 'identity-rename-input', 'Work');
    await click(popup, 'identity-rename-save');
    await popup.waitForFunction((w) => document.querySelector(`[data-id="${w}"] [data-testid="identity-name"]`)?.textContent === 'Work', MUTATION, work);
    await clickSelector(popup, `[data-id="${work}"] [data-testid="identity-delete"]`);
    await popup.waitForSelector('[data-testid="identity-delete-confirmation"]');
    await screenshot(popup, 'popup-5-delete-confirmation');
    await click(popup, 'identity-delete-confirm');
    await popup.waitForFunction(() => document.querySelectorAll('[data-testid="identity"]').length === 1, MUTATION);
  });

  it('grants an origin in a prompt, signs verifiably, switches identity, and tells other origins nothing', async () => {
    handle = await launchBrowser(kind);
    server = await startStaticServer({ '/index.html': TEST_PAGE });
    const popup = await openPopup(handle);
    const alice = await createFirstIdentity(popup, 'Alice');
    const bob = await createIdentity(popup, 'Bob');

    const page = await handle.browser.newPage();
    await page.goto(server.url('/'), { waitUntil: 'load' });
    await page.bringToFront();
    expect(await page.evaluate(() => (window as any).__announced)).toEqual(['P2P Browser']);
    // Nothing before a grant.
    expect(await call(page, 'p2p_getIdentity')).toEqual({ result: null });

    await withPrompt(handle, () => startCall(page, 'grant', 'p2p_requestIdentity'), { kind: 'identity', origin: server.origin }, async (prompt) => {
      await clickSelector(prompt, `[data-testid="prompt-identity"][value="${alice}"]`);
      await clickClosing(prompt, 'prompt-approve');
    }, 'prompt-identity');
    const granted = await finishCall(page, 'grant');
    expect(granted.result.publicKey).toBe(alice);
    expect(granted.result.statement).toMatchObject({ publicKey: alice, displayName: 'Alice' });

    // A second origin, never granted: refused, and learns nothing.
    const other = await handle.browser.newPage();
    await other.goto(server.url('/', 1), { waitUntil: 'load' });
    await other.bringToFront();
    expect(await call(other, 'p2p_getIdentity')).toEqual({ result: null });
    expect((await call(other, 'p2p_sign', { message: 'hi' })).error?.code).toBe(4100);
    await withPrompt(handle, async () => {
      await startCall(other, 'ask', 'p2p_requestIdentity');
      // One prompt at a time: asking again while the first is open is an error, not a second prompt.
      expect((await call(other, 'p2p_requestIdentity')).error?.code).toBe(-32002);
    }, { kind: 'identity', origin: server.otherOrigin }, (prompt) => clickClosing(prompt, 'prompt-reject'));
    expect((await finishCall(other, 'ask')).error?.code).toBe(4001);

    // p2p_sign: the prompt shows the message; the signature verifies with node:crypto alone.
    await page.bringToFront();
    const message = 'I am Alice, signing for this page.';
    await withPrompt(handle, () => startCall(page, 'sig', 'p2p_sign', { message }), { kind: 'sign', origin: server.origin }, async (prompt) => {
      expect(await prompt.$eval('[data-testid="prompt-message"]', (el) => el.textContent)).toBe(message);
      await click(prompt, 'prompt-remember');
      await clickClosing(prompt, 'prompt-approve');
    }, 'prompt-sign');
    const signed = await finishCall(page, 'sig');
    expect(signed.result).toMatchObject({ publicKey: alice, origin: server.origin, context: 'p2pb/page-sign/v1' });
    expect(verifyPageSignature(alice, signed.result.context, server.origin, message, signed.result.signature)).toBe(true);
    // …and not for another origin or another message.
    expect(verifyPageSignature(alice, signed.result.context, server.otherOrigin, message, signed.result.signature)).toBe(false);

    if (kind === 'chromium') {
      // The service worker is stopped mid-session (as Chrome does when idle): the page's next
      // call still works without a prompt, so the vault is still unlocked.
      await stopServiceWorker(handle);
      const again = await call(page, 'p2p_sign', { message: 'after restart' });
      expect(again.error).toBeUndefined();
      expect(verifyPageSignature(alice, again.result.context, server.origin, 'after restart', again.result.signature)).toBe(true);
      expect((await call(page, 'p2p_getIdentity')).result.publicKey).toBe(alice);
    }

    // The person switches the identity this origin sees: the page hears identityChanged.
    await popup.bringToFront();
    await click(popup, 'tab-sites');
    await popup.waitForSelector(`[data-testid="grant"][data-origin="${server.origin}"]`);
    await screenshot(popup, 'popup-6-sites');
    await popup.select(`[data-testid="grant"][data-origin="${server.origin}"] [data-testid="grant-identity"]`, bob);
    const events = await page.evaluate(() => (window as any).eventsHeard(1));
    expect(events).toHaveLength(1);
    expect(events[0].publicKey).toBe(bob);
    expect((await call(other, 'p2p_getIdentity')).result).toBeNull();
    expect(await other.evaluate(() => (window as any).__events)).toEqual([]);

    // Revoking: the page hears null and is back to knowing nothing.
    await clickSelector(popup, `[data-testid="grant"][data-origin="${server.origin}"] [data-testid="grant-revoke"]`);
    expect((await page.evaluate(() => (window as any).eventsHeard(2)))[1]).toBeNull();
    expect(await call(page, 'p2p_getIdentity')).toEqual({ result: null });
  });

  it('gives nothing to a page that claims another origin or sends an unknown message type', async () => {
    handle = await launchBrowser(kind);
    server = await startStaticServer({ '/index.html': TEST_PAGE });
    const popup = await openPopup(handle);
    const alice = await createFirstIdentity(popup, 'Alice');

    // Grant the first origin.
    const granted = await handle.browser.newPage();
    await granted.goto(server.url('/'), { waitUntil: 'load' });
    await granted.bringToFront();
    await withPrompt(handle, () => startCall(granted, 'grant', 'p2p_requestIdentity'), { kind: 'identity', origin: server.origin }, (prompt) => clickClosing(prompt, 'prompt-approve'));
    expect((await finishCall(granted, 'grant')).result.publicKey).toBe(alice);

    // A page on the second origin forges bridge messages.
    const attacker = await handle.browser.newPage();
    await attacker.goto(server.url('/', 1), { waitUntil: 'load' });
    await attacker.bringToFront();
    await attacker.evaluate((grantedOrigin) => {
      const base = { channel: 'p2pb', v: 1, to: 'bridge' };
      window.postMessage({ ...base, id: 'forged-origin', method: 'p2p_getIdentity', origin: grantedOrigin }, '*');
      window.postMessage({ ...base, id: 'forged-sender', method: 'p2p_sign', params: { message: 'x' }, sender: { origin: grantedOrigin } }, '*');
      window.postMessage({ ...base, id: 'forged-type', type: 'ui.request', method: 'backup.export' }, '*');
      window.postMessage({ channel: 'p2pb', v: 1, to: 'background', id: 'forged-to', method: 'vault.unlock' }, '*');
      window.postMessage({ channel: 'p2pb', v: 99, to: 'bridge', id: 'forged-version', method: 'p2p_getIdentity' }, '*');
    }, server.origin);
    // A well-formed request sent after them: its answer comes back after any answer to theirs
    // would have (one ordered channel), so waiting for it is waiting long enough.
    expect(await call(attacker, 'p2p_getIdentity')).toEqual({ result: null });
    const received = await attacker.evaluate(() => (window as any).__received.map((m: any) => m.id ?? m.event));
    expect(received.filter((id: string) => id?.startsWith('forged'))).toEqual([]);
    // An unsupported method through the proper shape is refused with its code.
    expect((await call(attacker, 'vault_export')).error?.code).toBe(4200);
  });
});

describe('engine host in chromium', () => {
  let handle: BrowserHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('runs the engine in the offscreen document and recreates the document when it is gone', async () => {
    handle = await launchBrowser('chromium');
    const popup = await openPopup(handle);
    await popup.waitForFunction(() => document.querySelector('[data-testid="engine-status"]')?.textContent?.includes('offscreen document · WebRTC ready'), MUTATION);
    const isOffscreen = (t: { url(): string }) => t.url() === `${handle!.baseUrl}offscreen.html`;
    const offscreen = await handle.browser.waitForTarget(isOffscreen);
    const gone = new Promise<void>((resolve) => handle!.browser.on('targetdestroyed', (t) => isOffscreen(t) && resolve()));
    const session = await handle.browser.target().createCDPSession();
    await session.send('Target.closeTarget', { targetId: (offscreen as unknown as { _targetId: string })._targetId });
    await gone;
    // The next use finds it gone, creates it again and waits for its engine to say it is ready.
    const recreated = handle.browser.waitForTarget(isOffscreen);
    await popup.reload({ waitUntil: 'load' });
    await recreated;
    await popup.waitForFunction(() => document.querySelector('[data-testid="engine-status"]')?.textContent?.includes('offscreen document · WebRTC ready'), MUTATION);
  });
});

