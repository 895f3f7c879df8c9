/**
 * The ISOLATED-world bridge between window.p2p and the background. It forwards exactly one shape
 * of message (lib/protocol isPageRequestMessage: method and params, nothing else), so a page can
 * never say who it is — the background takes the origin from the browser's `sender`. Anything
 * else is dropped and logged.
 */
import {
  MAX_PAGE_MESSAGE_BYTES,
  PAGE_CHANNEL,
  PORT_PAGE,
  PROTOCOL_VERSION,
  ProviderErrorCode,
  isPageRequestMessage,
  type ToPageMessage,
  type WireError,
} from '@/lib/protocol/index.ts';
import { forwardRequest, relayPortToWindow } from '@/lib/protocol/relay.ts';
import { createLogger } from '@/lib/util/log.ts';

export default defineContentScript({
  matches: ['http://*/*', 'https://*/*'],
  runAt: 'document_start',
  main() {
    const log = createLogger('bridge');
    let port: Browser.runtime.Port | null = null;
    const inFlight = new Set<string>();

    const toPage = (message: ToPageMessage) => window.postMessage(message, window.location.origin);
    const respondError = (id: string, error: WireError) =>
      toPage({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id, error });

    /** Connects lazily, and again after the service worker was stopped or restarted. */
    function connect(): Browser.runtime.Port {
      if (port) return port;
      const p = browser.runtime.connect({ name: PORT_PAGE });
      relayPortToWindow(p, inFlight, toPage, { log, onGone: () => (port = null) });
      port = p;
      return p;
    }

    window.addEventListener('message', (event: MessageEvent) => {
      if (event.source !== window || event.origin !== window.location.origin) return;
      const data: unknown = event.data;
      if (typeof data !== 'object' || data === null || (data as { channel?: unknown }).channel !== PAGE_CHANNEL) return;
      if ((data as { to?: unknown }).to === 'page') return; // our own answers
      if (!isPageRequestMessage(data)) {
        log.warn('dropped a malformed or unknown message from the page');
        return;
      }
      if (data.params !== undefined && JSON.stringify(data.params).length > MAX_PAGE_MESSAGE_BYTES) {
        respondError(data.id, { code: ProviderErrorCode.INVALID_REQUEST, message: `Request larger than ${MAX_PAGE_MESSAGE_BYTES} bytes` });
        return;
      }
      forwardRequest(data, inFlight, connect, () => (port = null));
    });
  },
});
