/**
 * window.p2p inside an app's sandboxed frame. The frame has an opaque origin and no extension
 * APIs; its only way out is postMessage to its parent, the extension's app host page (app.html),
 * which forwards to the background. This reuses the page provider (lib/provider) unchanged and
 * points it at the parent instead of the page's own window:
 *
 *   requests  → parent.postMessage(message, <extension origin>)   (nobody else can receive them)
 *   answers   ← only from event.source === parent, sent by the extension origin
 *
 * It runs first in every app document (the build puts it there). If the document is not in a
 * sandboxed frame (someone opened /apps/<id>/index.html directly: in Firefox that page would be a
 * full extension page), it stops the document before any app script runs.
 */
import { ANNOUNCE_EVENT, REQUEST_ANNOUNCE_EVENT } from '../protocol/index.ts';
import { createProvider, type P2pProvider, type ProviderInfo } from '../provider/index.ts';

/** Interfaces the frame removes: WebRTC is the one way out that no CSP directive closes. */
export const REMOVED_GLOBALS = ['RTCPeerConnection', 'webkitRTCPeerConnection', 'mozRTCPeerConnection'] as const;

/** True when `win` is a sandboxed (opaque-origin) frame with a parent that can host it. */
export function isSandboxedFrame(win: Window): boolean {
  return win.origin === 'null' && win.parent !== win;
}

/** Stops the document: no later script of it runs. */
function refuse(win: Window, why: string): void {
  win.stop();
  const doc = win.document;
  doc.documentElement.replaceChildren();
  doc.documentElement.append(doc.createTextNode(`This app runs only inside P2P Browser's app page (app.html?app=…). ${why}`));
}

/** A window-shaped channel to the host: what createProvider needs, nothing more. */
function hostChannel(win: Window): Window {
  const parent = win.parent;
  // The document URL's origin is the extension's even though the frame's own origin is opaque.
  const hostOrigin = win.location.origin;
  const channel = {
    location: { origin: hostOrigin },
    addEventListener(type: string, listener: (event: MessageEvent) => void) {
      if (type !== 'message') throw new TypeError('only message events');
      win.addEventListener('message', (event: MessageEvent) => {
        if (event.source !== parent || event.origin !== hostOrigin) return;
        listener({ data: event.data, source: channel, origin: hostOrigin } as unknown as MessageEvent);
      });
    },
    postMessage(message: unknown) {
      parent.postMessage(message, hostOrigin);
    },
  };
  return channel as unknown as Window;
}

/** Defines window.p2p in the app frame and announces it (EIP-6963, as lib/provider does). */
export function installFrameProvider(win: Window): P2pProvider | null {
  if (!isSandboxedFrame(win)) {
    refuse(win, win.origin === 'null' ? 'It has no host here.' : 'Opened outside its sandbox.');
    return null;
  }
  for (const name of REMOVED_GLOBALS) delete (win as unknown as Record<string, unknown>)[name];
  const provider = createProvider(hostChannel(win));
  const info: ProviderInfo = Object.freeze({ uuid: crypto.randomUUID(), name: 'P2P Browser', rdns: 'dev.p2pb' });
  Object.defineProperty(win, 'p2p', { value: provider, writable: false, configurable: false, enumerable: true });
  const announce = () => win.dispatchEvent(new CustomEvent(ANNOUNCE_EVENT, { detail: Object.freeze({ info, provider }) }));
  win.addEventListener(REQUEST_ANNOUNCE_EVENT, announce);
  announce();
  return provider;
}
