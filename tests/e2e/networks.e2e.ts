/**
 * Networks end to end, inside the private network namespace: an always-on node, a browser that
 * joins from a pasted invite, another that joins by clicking a web+p2p: link in a web page, and
 * a direct (not relayed) WebRTC connection between the two found through the network's DHT.
 */
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeInvite } from '../../lib/net/invite.ts';
import { createNetworkId } from '../../lib/net/network-id.ts';
import { createNetworkNode, createPeerKey, type NetworkNode } from '../../lib/net/node.ts';
import { click, createFirstIdentity, fill, openPopup, uiRequest } from './flows.ts';
import { launchBrowser, screenshot, startStaticServer, waitForExtensionPage, type BrowserHandle, type BrowserKind, type StaticServer } from './harness.ts';

/** An always-on node serving one network over WebSockets, as p2pb-node does. */
async function alwaysOnNode(name: string): Promise<{ node: NetworkNode; invite: string }> {
  const networkId = createNetworkId();
  const node = await createNetworkNode({
    network: { id: networkId, name },
    peerKey: await createPeerKey(),
    role: 'always-on',
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    allowLocalAddresses: true,
    transports: { webRTC: false, webRTCDirect: false, webTransport: false },
  });
  return { node, invite: encodeInvite({ networkId, name, bootstrap: node.getMultiaddrs().map(String) }) };
}

/** Waits (on the page's own state events, no polling) until the link page says we are online. */
async function joinFromLinkPage(handle: BrowserHandle, linkPage: Page, identity: string): Promise<void> {
  await linkPage.bringToFront();
  await linkPage.waitForSelector('[data-testid="invite-name"]');
  await linkPage.$eval(`[data-testid="join-identity"][value="${identity}"]`, (el) => (el as HTMLInputElement).click());
  await screenshot(linkPage, 'link-invite');
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
  it.each(pairs)('%s A and %s B join from an invite, and B reaches A directly over WebRTC', async (kindA, kindB) => {
    const { node, invite } = await alwaysOnNode('Friends');
    cleanup.push(() => node.stop());
    const server: StaticServer = await startStaticServer({
      '/index.html': `<!doctype html><meta charset="utf-8"><title>invite</title><p>Join us: <a id="invite" href="${invite}">Friends</a></p>`,
    });
    cleanup.push(() => server.close());

    // A pastes the invite in the popup; the link page asks which identity to appear as.
    const a = await launchBrowser(kindA);
    cleanup.push(() => a.close());
    const popupA = await openPopup(a);
    const alice = await createFirstIdentity(popupA, 'Alice');
    await click(popupA, 'tab-networks');
    const linkA = waitForExtensionPage(a, 'link.html', { newOnly: true });
    await fill(popupA, 'paste-link', invite);
    await click(popupA, 'paste-submit');
    await joinFromLinkPage(a, await linkA, alice);

    // B clicks the link in a web page.
    const b = await launchBrowser(kindB, { dumpio: !!process.env.P2PB_DUMPIO });
    cleanup.push(() => b.close());
    const popupB = await openPopup(b);
    const bob = await createFirstIdentity(popupB, 'Bob');
    const page = await b.browser.newPage();
    await page.goto(server.url('/'), { waitUntil: 'load' });
    await page.bringToFront();
    const linkB = waitForExtensionPage(b, 'link.html', { newOnly: true });
    await page.click('#invite');
    await joinFromLinkPage(b, await linkB, bob);

    const [networkB] = await uiRequest(popupB, 'network.join', { link: invite, identity: bob }).then(() => uiRequest(popupB, 'state.get')).then((s) => s.networks);
    expect(networkB).toMatchObject({ name: 'Friends', identity: bob, status: 'online' });

    // B finds A by public key and connects browser to browser.
    const connected = await uiRequest(popupB, 'network.connect', { id: networkB.id, publicKey: alice });
    expect(connected.direct).toBe(true);
    expect(connected.remoteAddr).toContain('/webrtc');
    console.log(`${kindA} ↔ ${kindB}: resolve + direct WebRTC connection in ${connected.elapsed} ms`);

    // B is also in a second network, which A is not in and can see nothing of: another PeerId
    // for B there, and no trace of it in A's network.
    const second = await alwaysOnNode('Work');
    cleanup.push(() => second.node.stop());
    const workB = await uiRequest(popupB, 'network.join', { link: second.invite, identity: bob });
    expect(workB.status).toBe('online');
    expect(workB.peerId).not.toBe(networkB.peerId);
    const networksA = (await uiRequest(popupA, 'state.get')).networks;
    expect(networksA.map((n: { name: string }) => n.name)).toEqual(['Friends']);
    const seenByA = await uiRequest(popupA, 'network.peers', { id: networksA[0].id });
    expect(seenByA).toContain(networkB.peerId);
    expect(seenByA).not.toContain(workB.peerId);
    expect(seenByA).not.toContain(second.node.peerId.toString());
    await expect(uiRequest(popupA, 'network.connect', { id: networksA[0].id, publicKey: bob })).resolves.toMatchObject({ peerId: networkB.peerId });

    await popupB.bringToFront();
    await click(popupB, 'tab-networks');
    await popupB.waitForSelector('[data-testid="network"]');
    await screenshot(popupB, 'popup-7-networks');
  });
});
