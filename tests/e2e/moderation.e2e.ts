/**
 * Moderation end to end in a private network namespace, with the always-on node through its CLI:
 *
 *   network 1: A (Chromium, Alice) and curator C (Firefox)
 *   network 2: A, C, M (Chromium, Mallory) and later a fresh reader D (Firefox)
 *
 * M posts in the microblog; A follows M and sees the post. C blocks M on the options page and
 * publishes it as a community list; A opens the list's web+p2p: link, sees what it is, and
 * subscribes — the list came through network 1, M is in network 2: the block holds there too.
 * M's post disappears from A's microblog (which says why and offers "show anyway"), and A's
 * browser stops re-serving M's feeds: with M offline, D could read M's profile from A before the
 * block and cannot read M's posts after it. A punches through from the app (confirmed in a
 * prompt) and sees M's post again. Screenshots of every moderation screen go to the artifacts.
 */
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { click, clickClosing, createFirstIdentity, fill, openPopup, uiRequest, withPrompt } from './flows.ts';
import { appDriver, openApp, type AppDriver } from './frames.ts';
import { launchBrowser, openExtensionPage, screenshot, type BrowserHandle } from './harness.ts';
import { twoPeopleInANetwork } from './node-cli.ts';

const hasText = (text: string) => [...document.querySelectorAll('[data-testid="mb-text"]')].some((n) => n.textContent === text);
const lacksText = (text: string) => ![...document.querySelectorAll('[data-testid="mb-text"]')].some((n) => n.textContent === text);

async function post(handle: BrowserHandle, app: AppDriver, text: string): Promise<void> {
  await app.host.bringToFront();
  await app.fill('mb-post-text', text);
  await withPrompt(handle, () => app.click('mb-post-submit').then(() => undefined), { kind: 'write', origin: 'app:microblog' }, async (prompt) => {
    await click(prompt, 'prompt-remember');
    await clickClosing(prompt, 'prompt-approve');
  });
  await app.until(hasText, text);
}

/** Waits for `selector` on an extension page and returns its text. */
async function textOf(page: Page, selector: string): Promise<string> {
  const el = await page.waitForSelector(selector);
  return el!.evaluate((n) => n.textContent ?? '');
}

describe('moderation', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('a community list hides M from A in every network and stops A re-serving M; A punches through', async () => {
    const t0 = Date.now();
    const step = (what: string) => console.log(`[moderation e2e ${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
    const { node, a, popupA, alice, b: c, popupB: popupC, bob: carol } = await twoPeopleInANetwork('Moderation', ['chromium', 'firefox'], cleanup);
    const second = await uiRequest(popupA, 'network.create', { name: 'Second', host: node.frontDoor, identity: alice, closed: true });
    expect((await uiRequest(popupC, 'network.join', { link: second.invite, identity: carol })).status).toBe('online');

    step('M joins only the second network and posts there.');
    // M joins only the second network and posts there.
    const m = await launchBrowser('chromium');
    cleanup.push(() => m.close());
    const popupM = await openPopup(m);
    const mallory = await createFirstIdentity(popupM, 'Mallory');
    expect((await uiRequest(popupM, 'network.join', { link: second.invite, identity: mallory })).status).toBe('online');
    const appM = appDriver(m, await openApp(m, 'microblog', 'prompt-approve'), 'microblog');
    await appM.ready();
    await post(m, appM, 'Buy cheap followers');
    expect((await appM.request('p2p_putItem', { name: 'profile', id: 'me', item: { name: 'Mallory' } })).error).toBeUndefined();

    step('A follows M and sees the post; A holds M\'s profile too (a follow take');
    // A follows M and sees the post; A holds M's profile too (a follow takes every feed of M's).
    const appA = appDriver(a, await openApp(a, 'microblog', 'prompt-approve'), 'microblog');
    await appA.ready();
    await appA.fill('mb-follow-key', mallory);
    await appA.click('mb-follow-submit');
    await appA.until(hasText, 'Buy cheap followers');
    expect((await uiRequest(popupA, 'feed.read', { identity: alice, author: mallory, name: 'profile' })).seq).toBe(1);

    step('M goes offline: A is now the only holder of M\'s feeds. A fresh reader');
    // M goes offline: A is now the only holder of M's feeds. A fresh reader D in the second
    // network gets M's profile from A's browser (the control for what follows).
    await m.close();
    const d = await launchBrowser('firefox');
    cleanup.push(() => d.close());
    step('D launched');
    const popupD = await openPopup(d);
    const dave = await createFirstIdentity(popupD, 'Dave');
    expect((await uiRequest(popupD, 'network.join', { link: second.invite, identity: dave })).status).toBe('online');
    step('D joined');
    const profile = await uiRequest(popupD, 'feed.read', { identity: dave, author: mallory, name: 'profile' });
    expect(profile.from).toBe(second.peerId);

    step('C blocks M on the options page and publishes the entry as the communit');
    // C blocks M on the options page and publishes the entry as the community list "spam-watch".
    const optionsC = await openExtensionPage(c, 'options.html');
    await optionsC.bringToFront();
    await fill(optionsC, 'moderation-add-key', mallory);
    await fill(optionsC, 'moderation-add-reason', 'sells followers');
    await click(optionsC, 'moderation-add-submit');
    await optionsC.waitForSelector(`[data-testid="moderation-own-entry"][data-key="${mallory}"][data-kind="block"]`);
    await fill(optionsC, 'moderation-publish-name', 'spam-watch');
    await click(optionsC, 'moderation-publish-submit');
    const link = await textOf(optionsC, '[data-testid="moderation-published-link"]');
    expect(link).toBe(`web+p2p:list/${carol}/moderation/lists/spam-watch`);
    await screenshot(optionsC, 'moderation-curator-options');

    step('A opens the link: the page says what the list is (curator, size) and s');
    // A opens the link: the page says what the list is (curator, size) and subscribes on confirm.
    const linkPage = await openExtensionPage(a, `link.html?link=${encodeURIComponent(link)}`);
    await linkPage.bringToFront();
    expect(await textOf(linkPage, '[data-testid="list-size"]')).toBe('1 key blocked · 0 trusted');
    expect(await linkPage.$eval('[data-testid="list-curator"]', (el) => el.getAttribute('title'))).toBe(carol);
    expect(await textOf(linkPage, '[data-testid="list-name"]')).toBe('spam-watch');
    await screenshot(linkPage, 'moderation-list-link');
    await click(linkPage, 'list-subscribe');
    await linkPage.waitForSelector('[data-testid="list-subscribed"]');

    step('M\'s post leaves A\'s timeline; the app says why and offers "show anyw');
    // M's post leaves A's timeline; the app says why and offers "show anyway".
    await appA.host.bringToFront();
    await appA.until(lacksText, 'Buy cheap followers');
    await appA.until((key) => !!document.querySelector(`[data-testid="mb-hidden-author"][data-author="${key}"]`), mallory);
    const because = await appA.run<string>(() => document.querySelector('[data-testid="mb-hidden-because"]')!.textContent);
    expect(because).toContain('blocked by list moderation/lists/spam-watch');
    await screenshot(appA.host, 'moderation-microblog-hidden');

    step('A\'s options page: which list blocks M, and why.');
    // A's options page: which list blocks M, and why.
    const optionsA = await openExtensionPage(a, 'options.html');
    await optionsA.bringToFront();
    await optionsA.waitForSelector(`[data-testid="moderation-subscription"][data-status="ok"]`);
    await fill(optionsA, 'moderation-check-key', mallory);
    await click(optionsA, 'moderation-check-submit');
    await optionsA.waitForSelector('[data-testid="moderation-verdict"][data-decision="blocked"]');
    expect(await textOf(optionsA, '[data-testid="moderation-because"]')).toContain(`blocked by list moderation/lists/spam-watch of curator ${carol.slice(0, 12)}`);
    await screenshot(optionsA, 'moderation-options-verdict');
    await optionsA.close();

    step('A\'s browser no longer re-serves M\'s feeds in the second network: D c');
    // A's browser no longer re-serves M's feeds in the second network: D cannot read M's posts.
    const refused = await uiRequest(popupD, 'feed.read', { identity: dave, author: mallory, name: 'posts' }).catch((error: { code?: unknown }) => error);
    expect((refused as { code?: unknown }).code).toBe('FEED_NOT_FOUND');

    step('A punches through from the app, confirmed in a prompt: M\'s post is ba');
    // A punches through from the app, confirmed in a prompt: M's post is back.
    await appA.host.bringToFront();
    await withPrompt(a, () => appA.click('mb-show-anyway').then(() => undefined), { kind: 'punch-through', origin: 'app:microblog' }, async (prompt) => {
      expect(await prompt.$eval('[data-testid="prompt-key"]', (el) => el.getAttribute('title'))).toBe(mallory);
      expect(await textOf(prompt, '[data-testid="prompt-because"]')).toContain('spam-watch');
      await screenshot(prompt, 'moderation-punch-through-prompt');
      await clickClosing(prompt, 'prompt-approve');
    });
    await appA.until(hasText, 'Buy cheap followers');
    await appA.until(() => !document.querySelector('[data-testid="mb-hidden-author"]'));
    expect(await uiRequest(popupA, 'moderation.explain', { key: mallory })).toMatchObject({ decision: 'allowed', because: 'you allowed it (punch-through)' });

    // The popup's Moderation tab is the same screen: the subscription and the shown-anyway key.
    await popupA.bringToFront();
    await click(popupA, 'tab-moderation');
    await popupA.waitForSelector(`[data-testid="moderation-punch-entry"][data-key="${mallory}"]`);
    await popupA.waitForSelector('[data-testid="moderation-subscription"][data-status="ok"]');
    await screenshot(popupA, 'moderation-popup');
    step('done');
  }, 300_000);
});
