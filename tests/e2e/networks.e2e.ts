/**
 * Networks end to end, inside the private network namespace: an always-on node, a browser that
 * joins from a pasted invite, another that joins by clicking a web+p2p: link in a web page, and
 * a direct (not relayed) WebRTC connection between the two found through the network's DHT.
 */
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeCli } from './node-cli.ts';
import { click, createFirstIdentity, fill, openPopup, uiRequest } from './flows.ts';
import { launchBrowser, screenshot, startStaticServer, waitForExtensionPage, type BrowserHandle, type BrowserKind, type StaticServer } from './harness.ts';

/** Waits (on the page's own state events, no polling) until the link page says we are online. */
async function joinFromLinkPage(handle: BrowserHandle, linkPage: Page, identity: string): Promise<void> {
  await linkPage.bringToFront();
  await linkPage.waitForSelector('[data-testid="invite-name"]');
  await linkPage.$eval(`[data-testid="join-identity"][value="${identity}"]`, (el) => (el as HTMLInputElement).click());
  await click(linkPage, 'join-submit');
  try {
    await linkPage.waitForSelector('[data-testid="join-status"][data-status="online"]');
  } catch (err) {
    console.error('link page:', await linkPage.evaluate(() => document.querySelector('main')?.innerText));
    console.error(handle.consoleErrors.map((e) => `${e.source} ${e.url} ${e.text}`).join('\n'));
    throw err;
  }
}

describe('networks', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const pairs: [BrowserKind, BrowserKind][] = [['chromium', 'firefox'], ['chromium', 'chromium']];
  it.each(pairs)('%s A creates a closed network on the always-on node, %s B joins by clicking its invite, and B reaches A directly over WebRTC', async (kindA, kindB) => {
    const node = await startNodeCli();
    cleanup.push(() => node.stop());

    // A creates the network in the popup, on the node's front door, and copies the invite.
    const a = await launchBrowser(kindA);
    cleanup.push(() => a.close());
    const popupA = await openPopup(a);
    const alice = await createFirstIdentity(popupA, 'Alice');
    await click(popupA, 'tab-networks');
    await fill(popupA, 'network-name-input', 'Friends');
    await fill(popupA, 'network-host', node.frontDoor);
    await click(popupA, 'network-create-submit');
    await popupA.waitForSelector('[data-testid="network"] [data-testid="network-status"][data-status="online"]');
    await click(popupA, 'network-qr');
    await popupA.waitForSelector('[data-testid="network-qr-code"] svg');
    await screenshot(popupA, 'popup-7-networks');
    const [friends] = (await uiRequest(popupA, 'state.get')).networks;
    expect(friends).toMatchObject({ name: 'Friends', identity: alice, closed: true, status: 'online' });
    const invite: string = friends.invite;

    // B sees the invite link in a web page and clicks it; the link page asks who to join as.
    const server: StaticServer = await startStaticServer({
      '/index.html': `<!doctype html><meta charset="utf-8"><title>invite</title><p>Join us: <a id="invite" href="${invite}">Friends</a></p>`,
    });
    cleanup.push(() => server.close());
    const b = await launchBrowser(kindB, { dumpio: !!process.env.P2PB_DUMPIO });
    cleanup.push(() => b.close());
    const popupB = await openPopup(b);
    const bob = await createFirstIdentity(popupB, 'Bob');
    const page = await b.browser.newPage();
    await page.goto(server.url('/'), { waitUntil: 'load' });
    await page.bringToFront();
    const linkB = waitForExtensionPage(b, 'link.html', { newOnly: true });
    const clicked = Date.now();
    await page.click('#invite');
    await joinFromLinkPage(b, await linkB, bob);
    await screenshot(await linkB, 'link-invite-joined');
    const [friendsB] = (await uiRequest(popupB, 'state.get')).networks;
    expect(friendsB).toMatchObject({ id: friends.id, name: 'Friends', identity: bob, status: 'online' });

    // B finds A by public key and connects browser to browser, not through the relay.
    const connected = await uiRequest(popupB, 'network.connect', { id: friendsB.id, publicKey: alice });
    expect(connected.direct).toBe(true);
    expect(connected.remoteAddr).toContain('/webrtc');
    console.log(`${kindA} → ${kindB}: invite click to direct WebRTC ${Date.now() - clicked} ms (resolve + connect ${connected.elapsed} ms)`);

    // B is also in a second network, which A is not in and can see nothing of: another PeerId
    // for B there, and no trace of it in A's network.
    const work = await uiRequest(popupB, 'network.create', { name: 'Work', host: node.frontDoor, identity: bob, closed: true });
    expect(work.status).toBe('online');
    expect(work.peerId).not.toBe(friendsB.peerId);
    expect((await uiRequest(popupA, 'state.get')).networks.map((n: { name: string }) => n.name)).toEqual(['Friends']);
    const seenByA: string[] = await uiRequest(popupA, 'network.peers', { id: friends.id });
    expect(seenByA).toContain(friendsB.peerId);
    expect(seenByA).not.toContain(work.peerId);
    for (const bootstrap of work.bootstrap) expect(seenByA).not.toContain(bootstrap.split('/p2p/')[1]);
  });
});
