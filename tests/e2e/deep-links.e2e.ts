/**
 * Deep links into apps, in each browser: a web+p2p:profile/<key> link opens the microblog on
 * that person (app.html?app=microblog#profile=<key>, the fragment handed to the app's sandboxed
 * document), which offers to follow them; following from there lists them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodePublicKey, generateKeyPair } from '../../lib/identity/index.ts';
import { clickClosing, createFirstIdentity, openPopup, withPrompt } from './flows.ts';
import { appDriver } from './frames.ts';
import { browserKinds, launchBrowser, screenshot, waitForExtensionPage } from './harness.ts';

describe.each(browserKinds())('deep links in %s', (kind) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('a web+p2p:profile link opens the microblog on that person, who can be followed from there', async () => {
    const handle = await launchBrowser(kind);
    cleanup.push(() => handle.close());
    const popup = await openPopup(handle);
    const me = await createFirstIdentity(popup, 'Carol');
    const someone = encodePublicKey((await generateKeyPair()).publicKey);

    // The link (as the links content script or Firefox's protocol handler opens it) → the microblog, which asks who you are.
    await withPrompt(
      handle,
      () =>
        popup.evaluate(async (url: string) => {
          const api = (globalThis as any).browser ?? (globalThis as any).chrome;
          await api.tabs.create({ url, active: true });
        }, `link.html?link=${encodeURIComponent(`web+p2p:profile/${someone}`)}`).then(() => undefined),
      { kind: 'identity', origin: 'app:microblog' },
      (prompt) => clickClosing(prompt, 'prompt-approve'),
    );
    const host = await waitForExtensionPage(handle, `app.html?app=microblog#profile=${someone}`);
    await host.bringToFront();
    const app = appDriver(handle, host, 'microblog');
    await app.ready();
    expect(await app.run(() => {
      const card = document.querySelector('[data-testid="mb-profile"]') as HTMLElement;
      return { hidden: card.hidden, key: document.querySelector('[data-testid="mb-profile-key"]')!.textContent, state: card.dataset.state };
    })).toEqual({ hidden: false, key: someone, state: 'not-following' });
    await screenshot(host, 'deep-link-profile');
    await app.click('mb-profile-follow');
    await app.until((key) => !!document.querySelector(`[data-testid="mb-followed"][data-key="${key}"]`), someone);
    expect(await app.run(() => (document.querySelector('[data-testid="mb-profile"]') as HTMLElement).dataset.state)).toBe('following');

    // My own profile link opens on me: nothing to follow.
    const own = waitForExtensionPage(handle, `app.html?app=microblog#profile=${me}`, { newOnly: true });
    await popup.evaluate(async (url: string) => {
      const api = (globalThis as any).browser ?? (globalThis as any).chrome;
      await api.tabs.create({ url, active: true });
    }, `link.html?link=${encodeURIComponent(`web+p2p:profile/${me}`)}`);
    const mine = appDriver(handle, await own, 'microblog');
    await mine.host.bringToFront();
    await mine.ready();
    expect(await mine.run(() => (document.querySelector('[data-testid="mb-profile"]') as HTMLElement).dataset.state)).toBe('me');
  });
});
