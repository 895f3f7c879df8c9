/**
 * The app host page's bridge (entrypoints/app): the part of app.html that stands between the
 * app's sandboxed frame and the background, as entrypoints/bridge.content.ts does for web pages.
 *
 * - It accepts a message only from its own frame (`event.source` is the frame's window, the
 *   origin opaque), only in exactly the page-request shape (isPageRequestMessage: an extra key
 *   such as `origin` makes it invalid), and only within the size limit.
 * - It refuses feeds the app's manifest does not declare (policy.ts) before anything leaves.
 * - It forwards method and params over its runtime port (PORT_APP). The background decides the
 *   grant subject (`app:<id>`) from this page's URL; nothing the frame sends can change it.
 */
import { forwardRequest, relayPortToWindow } from '../protocol/relay.ts';
import {
  MAX_PAGE_MESSAGE_BYTES,
  PAGE_CHANNEL,
  PROTOCOL_VERSION,
  ProviderErrorCode,
  isPageRequestMessage,
  type ToPageMessage,
  type WireError,
} from '../protocol/index.ts';
import type { Logger } from '../util/log.ts';
import type { AppInfo } from './manifest.ts';
import { checkAppRequest } from './policy.ts';

/** The part of runtime.Port the host needs. */
export interface HostPort {
  postMessage(message: unknown): void;
  onMessage: { addListener(cb: (message: unknown) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

export interface AppHostOptions {
  app: AppInfo;
  /** The frame's window right now (null before it exists). */
  frame(): Window | null;
  /** Opens a port to the background (browser.runtime.connect({ name: PORT_APP })). */
  connect(): HostPort;
  log: Logger;
}

export interface AppHost {
  /** Give it every `message` event of the host window. */
  handleMessage(event: MessageEvent): void;
}

export function createAppHost({ app, frame, connect, log }: AppHostOptions): AppHost {
  let port: HostPort | null = null;
  const inFlight = new Set<string>();

  const toFrame = (message: ToPageMessage) => {
    // The frame's origin is opaque, so there is no origin to name: '*' goes to whatever
    // document the frame holds, and the host page's CSP (frame-src) keeps that the app's own.
    frame()?.postMessage(message, '*');
  };
  const respondError = (id: string, error: WireError) => toFrame({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id, error });

  /** Connects lazily, and again after the background restarted. */
  function ensurePort(): HostPort {
    if (port) return port;
    const p = connect();
    relayPortToWindow(p, inFlight, toFrame, {
      log,
      onGone: () => {
        if (port === p) port = null;
      },
    });
    port = p;
    return p;
  }

  return {
    handleMessage(event: MessageEvent) {
      const source = frame();
      // Only the app's own frame, whose origin is opaque; never this page, another tab or frame.
      if (!source || event.source !== source || event.origin !== 'null') return;
      const data: unknown = event.data;
      if (!isPageRequestMessage(data)) {
        log.warn('dropped a malformed or unknown message from the app frame');
        return;
      }
      if (data.params !== undefined && JSON.stringify(data.params).length > MAX_PAGE_MESSAGE_BYTES) {
        respondError(data.id, { code: ProviderErrorCode.INVALID_REQUEST, message: `Request larger than ${MAX_PAGE_MESSAGE_BYTES} bytes` });
        return;
      }
      const refused = checkAppRequest(app, data.method, data.params);
      if (refused) {
        respondError(data.id, refused);
        return;
      }
      forwardRequest(data, inFlight, ensurePort, () => (port = null));
    },
  };
}
