/**
 * Firefox runs the engine in its MV3 event page, and suspends that page after
 * `extensions.background.idle.timeout` without extension activity, taking every libp2p connection
 * with it. Here the timeout is a few seconds instead of 30: while a network is joined the page must
 * stay up, with its connection to the always-on node, through several timeouts; once none is, it
 * must idle out as usual.
 *
 * The page's suspension is observed as the `unload` of its window, which an extension page in the
 * same process can listen to (extension.getViews). Neither that listener nor an open tab keeps the
 * page awake (Firefox counts only extension events and API calls): during a hold the test sends the
 * background nothing, since a request would itself count as activity.
 */
import type { Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_INTERVAL } from '../../lib/engine/keep-alive.ts';
import type { UiState } from '../../lib/protocol/index.ts';
import { SECOND } from '../../lib/util/time.ts';
import { createFirstIdentity, openPopup, uiRequest } from './flows.ts';
import { launchBrowser } from './harness.ts';
import { startNodeCli } from './node-cli.ts';

/** Firefox's event page idle timeout in this test (default 30 s). */
const IDLE_TIMEOUT = 5 * SECOND;
/** How many idle timeouts the page must outlast while a network is joined. */
const IDLE_PERIODS = 3;

/** From an extension page: starts listening for the background page's unload (its suspension). */
async function watchBackground(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as any;
    const background = (g.browser.extension.getViews() as Window[]).find((w) => w.location.pathname.includes('background'));
    if (!background) throw new Error('the background page is not running');
    const since = Date.now();
    g.p2pbBackgroundUnloaded = new Promise<number>((resolve) => background.addEventListener('unload', () => resolve(Date.now() - since), { once: true }));
  });
}

/** ms from watchBackground to the background page's unload, or null if it still runs `ms` after now. */
async function backgroundUnloadWithin(page: Page, ms: number): Promise<number | null> {
  return page.evaluate(
    (limit) => Promise.race([(globalThis as any).p2pbBackgroundUnloaded as Promise<number>, new Promise<null>((resolve) => setTimeout(() => resolve(null), limit))]),
    ms,
  );
}

describe('Firefox event page', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('stays up with its connection to the always-on node through several idle timeouts while a network is joined, and idles out once none is', async () => {
    // The keep-alive must ping well within the timeout this test sets, or the test proves nothing.
    expect(KEEP_ALIVE_INTERVAL).toBeLessThanOrEqual(IDLE_TIMEOUT / 2);
    const node = await startNodeCli();
    cleanup.push(() => node.stop());
    const firefox = await launchBrowser('firefox', { prefs: { 'extensions.background.idle.timeout': IDLE_TIMEOUT } });
    cleanup.push(() => firefox.close());
    const popup = await openPopup(firefox);
    const alice = await createFirstIdentity(popup, 'Alice');
    const network = await uiRequest(popup, 'network.create', { name: 'Always', host: node.frontDoor, identity: alice, closed: true });
    expect(network.status).toBe('online');
    const before: UiState = await uiRequest(popup, 'state.get');
    expect(before.networks[0]!.peers).toBeGreaterThan(0);

    // Joined: the page outlasts several idle timeouts. Nothing is sent to the background meanwhile.
    await watchBackground(popup);
    const suspendedAfter = await backgroundUnloadWithin(popup, IDLE_PERIODS * IDLE_TIMEOUT);
    expect(suspendedAfter, `the background page was suspended ${suspendedAfter} ms into the hold`).toBeNull();
    const after: UiState = await uiRequest(popup, 'state.get');
    // The same engine (never restarted), still in the network and connected.
    expect(after.engine?.startedAt).toBe(before.engine!.startedAt);
    expect(after.networks).toHaveLength(1);
    expect(after.networks[0]).toMatchObject({ id: network.id, status: 'online' });
    expect(after.networks[0]!.peers).toBeGreaterThan(0);

    // Left the last network: nothing holds the page, and Firefox suspends it as it would anyway.
    await uiRequest(popup, 'network.leave', { id: network.id });
    await watchBackground(popup);
    const idledAfter = await backgroundUnloadWithin(popup, IDLE_PERIODS * IDLE_TIMEOUT);
    expect(idledAfter, 'the background page stayed up with no network joined').not.toBeNull();
    console.log(
      `firefox: up ${IDLE_PERIODS} × ${IDLE_TIMEOUT} ms idle timeouts with ${after.networks[0]!.peers} peer(s); ` +
        `suspended ${idledAfter} ms after leaving`,
    );
  });
});
