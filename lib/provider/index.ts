/**
 * `window.p2p`: the API web pages use, EIP-1193-shaped. Runs in the page's MAIN world, so it
 * holds nothing secret: it only posts requests to the bridge (ISOLATED world) and relays answers.
 *
 *   const identity = await p2p.request({ method: 'p2p_requestIdentity' });
 *   p2p.on('identityChanged', (identity) => …);
 *
 * Discovery without racing the page's own scripts (EIP-6963): the provider dispatches
 * `p2p:announceProvider` on window at load, and again whenever the page dispatches
 * `p2p:requestProvider`.
 */
import {
  ANNOUNCE_EVENT,
  PAGE_CHANNEL,
  PROTOCOL_VERSION,
  PROVIDER_EVENTS,
  REQUEST_ANNOUNCE_EVENT,
  isToPageMessage,
  type PageMethods,
  type PageRequestMessage,
  type ProviderEventName,
  type ProviderEvents,
  type WireError,
} from '../protocol/index.ts';

export interface RequestArguments<M extends keyof PageMethods = keyof PageMethods> {
  method: M;
  params?: PageMethods[M]['params'];
}

export interface P2pProvider {
  readonly isP2PBrowser: true;
  readonly protocolVersion: number;
  request<M extends keyof PageMethods>(args: RequestArguments<M>): Promise<PageMethods[M]['result']>;
  on<E extends ProviderEventName>(event: E, listener: (data: ProviderEvents[E]) => void): P2pProvider;
  off<E extends ProviderEventName>(event: E, listener: (data: ProviderEvents[E]) => void): P2pProvider;
}

export interface ProviderInfo {
  uuid: string;
  name: string;
  rdns: string;
}

/** The error `request` rejects with: `code` is stable (4001 refused, 4100 not granted…). */
export class ProviderRpcError extends Error {
  readonly code: number | string;
  constructor(error: WireError) {
    super(error.message);
    this.code = error.code;
    this.name = 'ProviderRpcError';
  }
}

export function createProvider(win: Window): P2pProvider {
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<ProviderEventName, Set<(data: unknown) => void>>();
  const prefix = Math.random().toString(36).slice(2, 10);
  let nextId = 1;

  win.addEventListener('message', (event: MessageEvent) => {
    if (event.source !== win || !isToPageMessage(event.data)) return;
    const message = event.data;
    if ('event' in message) {
      for (const listener of listeners.get(message.event) ?? []) {
        try {
          listener(message.data);
        } catch (err) {
          console.error('[p2p] listener threw', err);
        }
      }
      return;
    }
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new ProviderRpcError(message.error));
    else waiter.resolve(message.result);
  });

  const provider: P2pProvider = Object.freeze({
    isP2PBrowser: true as const,
    protocolVersion: PROTOCOL_VERSION,
    request(args: RequestArguments) {
      if (typeof args !== 'object' || args === null || typeof args.method !== 'string') {
        return Promise.reject(new ProviderRpcError({ code: -32600, message: 'request takes { method, params? }' }));
      }
      const id = `${prefix}-${nextId++}`;
      const message: PageRequestMessage = { channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'bridge', id, method: args.method };
      if (args.params !== undefined) message.params = args.params;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        win.postMessage(message, win.location.origin);
      });
    },
    on(event: ProviderEventName, listener: (data: never) => void) {
      if (!PROVIDER_EVENTS.includes(event)) throw new TypeError(`Unknown event ${String(event)}`);
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (data: unknown) => void);
      return provider;
    },
    off(event: ProviderEventName, listener: (data: never) => void) {
      listeners.get(event)?.delete(listener as (data: unknown) => void);
      return provider;
    },
  }) as P2pProvider;
  return provider;
}

/** Defines window.p2p (not writable) and announces it, now and on every request for it. */
export function installProvider(win: Window): P2pProvider {
  const provider = createProvider(win);
  const info: ProviderInfo = Object.freeze({ uuid: crypto.randomUUID(), name: 'P2P Browser', rdns: 'dev.p2pb' });
  Object.defineProperty(win, 'p2p', { value: provider, writable: false, configurable: false, enumerable: true });
  const announce = () =>
    win.dispatchEvent(new CustomEvent(ANNOUNCE_EVENT, { detail: Object.freeze({ info, provider }) }));
  win.addEventListener(REQUEST_ANNOUNCE_EVENT, announce);
  announce();
  return provider;
}
