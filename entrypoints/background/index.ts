/**
 * Background: the key vault, grants, prompts and the message router. Thin wiring only: the logic
 * is lib/service (tested in Node); this file connects it to runtime ports, storage areas,
 * windows and the engine host.
 */
import {
  BACKGROUND_TARGET,
  PORT_PAGE,
  PORT_UI,
  describe,
  isTargetedRequest,
  toWireError,
  wrapRuntimePort,
  type TargetedResponse,
} from '@/lib/protocol/index.ts';
import { createService, type Service } from '@/lib/service/index.ts';
import { PORT_APP, appGrantOrigin, isBundledApp } from '@/lib/apps/index.ts';
import type { Signer } from '@/lib/engine/index.ts';
import { createVault } from '@/lib/vault/index.ts';
import { createLogger } from '@/lib/util/log.ts';
import { fromBase64url, toBase64url } from '@/lib/util/bytes.ts';
import { inProcessEngineHost, offscreenEngineHost, type EngineHost } from './engine-host.ts';
import { storageArea } from './storage.ts';

type Sender = Browser.runtime.MessageSender;

/** Longest web+p2p: link accepted from a page (invites are a few hundred bytes). */
const MAX_LINK_LENGTH = 8192;

export default defineBackground({
  type: 'module',
  main() {
    const log = createLogger('background');
    const extensionOrigin = new URL(browser.runtime.getURL('/')).origin;
    let service: Service | undefined;

    // Firefox runs the engine in this page, signing through the same checks as the offscreen one.
    const signer: Signer = {
      async sign(identity, context, message) {
        const result = (await ready.then((s) => s.handleEngineRequest('signer.sign', { identity, context, message: toBase64url(message) }))) as { signature: string };
        return fromBase64url(result.signature);
      },
      identities: async () => (await ready).handleEngineRequest('signer.identities', undefined) as never,
    };
    const engine: EngineHost = import.meta.env.FIREFOX
      ? inProcessEngineHost(signer, log, () => service?.engineChanged(), (event) => service?.engineFeed(event))
      : offscreenEngineHost(log);

    // Prompt windows, and which prompt each shows (closing one is a refusal).
    const promptWindows = new Map<string, { windowId?: number; tabId?: number }>();
    const prompts = {
      async open(id: string) {
        const url = browser.runtime.getURL(`/prompt.html?id=${encodeURIComponent(id)}`);
        if (browser.windows) {
          const win = await browser.windows.create({ url, type: 'popup', width: 400, height: 640, focused: true });
          promptWindows.set(id, { windowId: win?.id });
        } else {
          // Firefox for Android has no windows API: a tab it is.
          const tab = await browser.tabs.create({ url });
          promptWindows.set(id, { tabId: tab.id });
        }
      },
      async close(id: string) {
        const where = promptWindows.get(id);
        promptWindows.delete(id);
        if (where?.windowId !== undefined) await browser.windows.remove(where.windowId);
        else if (where?.tabId !== undefined) await browser.tabs.remove(where.tabId);
      },
    };
    browser.windows?.onRemoved.addListener((windowId) => {
      for (const [id, where] of promptWindows) {
        if (where.windowId === windowId) {
          promptWindows.delete(id);
          service?.prompts.dismissed(id);
        }
      }
    });

    const ready: Promise<Service> = (async () => {
      const s = createService({ log })({
        vault: createVault({ local: storageArea(browser.storage.local), session: storageArea(browser.storage.session) }),
        local: storageArea(browser.storage.local),
        prompts,
        engine,
      });
      await s.start();
      service = s;
      return s;
    })();
    ready.catch((err: unknown) => log.error('background failed to start', err));

    /** The web origin of a content-script port, from the browser; null for anything else. */
    function pageOrigin(sender: Sender): string | null {
      if (sender.id !== browser.runtime.id || !sender.tab || !sender.url) return null;
      const origin = (sender as { origin?: string }).origin ?? new URL(sender.url).origin;
      return /^https?:\/\//.test(origin) ? origin : null;
    }

    // sender.origin too: a sandboxed frame of an extension page has the extension's URL but an
    // opaque origin ('null'), and in Chrome it still has runtime.connect (docs/apps.md).
    const isExtensionPage = (sender: Sender): boolean =>
      sender.id === browser.runtime.id &&
      !!sender.url &&
      new URL(sender.url).origin === extensionOrigin &&
      ((sender as { origin?: string }).origin ?? extensionOrigin) === extensionOrigin;

    // Listeners are registered synchronously so a restarted service worker misses nothing;
    // wrapRuntimePort holds early messages until the service has loaded.
    browser.runtime.onConnect.addListener((port) => {
      const sender = port.sender ?? ({} as Sender);
      if (port.name === PORT_PAGE) {
        const origin = pageOrigin(sender);
        if (!origin) {
          log.warn('refused a page port without a web origin', sender.url);
          return port.disconnect();
        }
        const wrapped = wrapRuntimePort(port);
        void ready.then((s) => s.connectPage(origin, wrapped));
      } else if (port.name === PORT_APP) {
        // The app host page (app.html?app=<id>): grants belong to `app:<id>`, read from the URL
        // the browser reports for this page, for an app that ships in the extension.
        const origin = appGrantOrigin(sender, { id: browser.runtime.id, origin: extensionOrigin }, isBundledApp);
        if (!origin) {
          log.warn('refused an app port that is not app.html of a bundled app', sender.url);
          return port.disconnect();
        }
        const wrapped = wrapRuntimePort(port);
        void ready.then((s) => s.connectPage(origin, wrapped));
      } else if (port.name === PORT_UI) {
        if (!isExtensionPage(sender)) {
          log.warn('refused a privileged port from outside the extension', sender.url);
          return port.disconnect();
        }
        const wrapped = wrapRuntimePort(port);
        void ready.then((s) => s.connectUi(wrapped));
      } else {
        log.warn('refused a port with an unknown name', port.name.slice(0, 64));
        port.disconnect();
      }
    });

    // Requests from the engine in the offscreen document (Chrome).
    browser.runtime.onMessage.addListener((message: unknown, sender: Sender, sendResponse: (r: TargetedResponse) => void) => {
      if (!isTargetedRequest(message, BACKGROUND_TARGET)) {
        // Messages for the engine pass by here too; anything else is dropped and logged.
        if ((message as { target?: unknown } | null)?.target !== 'p2pb-engine') log.warn('dropped unknown message', describe(message));
        return undefined;
      }
      if (message.method === 'link.open') {
        // From a content script, after a click the person made on a web+p2p: link.
        const link = (message.params as { link?: unknown } | undefined)?.link;
        if (!sender.tab || typeof link !== 'string' || !/^web\+p2p:/i.test(link) || link.length > MAX_LINK_LENGTH) {
          log.warn('dropped a malformed link.open', describe(message));
          return undefined;
        }
        void browser.tabs.create({
          url: browser.runtime.getURL(`/link.html?link=${encodeURIComponent(link)}`),
          index: sender.tab.index + 1,
          ...(sender.tab.id !== undefined ? { openerTabId: sender.tab.id } : {}),
        });
        return undefined;
      }
      if (sender.url !== browser.runtime.getURL('/offscreen.html')) {
        log.warn('dropped an engine request that did not come from the offscreen document', sender.url);
        return undefined;
      }
      if (message.method === 'engine.ready') {
        engine.markReady();
        sendResponse({ ok: true, result: null });
        return undefined;
      }
      if (message.method === 'engine.changed') {
        service?.engineChanged();
        sendResponse({ ok: true, result: null });
        return undefined;
      }
      if (message.method === 'engine.feed') {
        service?.engineFeed(message.params as Parameters<Service['engineFeed']>[0]);
        sendResponse({ ok: true, result: null });
        return undefined;
      }
      ready
        .then((s) => s.handleEngineRequest(message.method, message.params))
        .then(
          (result) => sendResponse({ ok: true, result }),
          (err: unknown) => sendResponse({ ok: false, error: toWireError(err) }),
        );
      return true;
    });

    browser.runtime.onInstalled.addListener(({ reason }) => {
      // First install: open the welcome page, where the person creates their first identity.
      if (reason === 'install') void browser.tabs.create({ url: browser.runtime.getURL('/popup.html?view=tab') });
    });
  },
});
