/**
 * Request/response over a port (runtime.Port in the browser, a fake in tests), with events.
 * Used by the popup and prompt (client) and the background (server) alike.
 */
import { PROTOCOL_VERSION } from './constants.ts';
import { ProviderErrorCode, RemoteError, toWireError, type WireError } from './errors.ts';
import { isPortEvent, isPortRequest, isPortResponse, type PortRequest } from './messages.ts';
import type { Logger } from '../util/log.ts';

/** The part of runtime.Port the protocol needs; `wrapRuntimePort` adapts the real one. */
export interface PortLike {
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onDisconnect(listener: () => void): void;
  disconnect(): void;
}

interface RuntimePort {
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(cb: (message: unknown) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

/**
 * Adapts a runtime.Port. Messages and a disconnect that arrive before anyone listens are kept
 * and delivered to the first listener: the MV3 service worker must accept a port synchronously
 * but may still be loading its state when the first request lands.
 */
export function wrapRuntimePort(port: RuntimePort): PortLike {
  const early: unknown[] = [];
  let messageListener: ((message: unknown) => void) | undefined;
  let disconnectListeners: (() => void)[] | undefined;
  let disconnected = false;
  port.onMessage.addListener((m) => (messageListener ? messageListener(m) : void early.push(m)));
  port.onDisconnect.addListener(() => {
    disconnected = true;
    for (const listener of disconnectListeners ?? []) listener();
  });
  return {
    postMessage: (message) => {
      if (!disconnected) port.postMessage(message);
    },
    onMessage: (listener) => {
      if (messageListener) {
        const previous = messageListener;
        messageListener = (m) => {
          previous(m);
          listener(m);
        };
        return;
      }
      messageListener = listener;
      for (const m of early.splice(0)) listener(m);
    },
    onDisconnect: (listener) => {
      (disconnectListeners ??= []).push(listener);
      if (disconnected) queueMicrotask(listener);
    },
    disconnect: () => port.disconnect(),
  };
}

type MethodTable<M> = { [K in keyof M]: { params: unknown; result: unknown } };

export interface PortClient<M extends MethodTable<M>, E extends Record<string, unknown>> {
  request<K extends keyof M & string>(method: K, ...params: M[K]['params'] extends undefined ? [] : [M[K]['params']]): Promise<M[K]['result']>;
  on<K extends keyof E & string>(event: K, listener: (data: E[K]) => void): () => void;
  readonly closed: boolean;
  close(): void;
}

/** Client side: numbered requests, promises settled by responses, DISCONNECTED when the port drops. */
export function createPortClient<M extends MethodTable<M>, E extends Record<string, unknown>>(
  port: PortLike,
  log?: Logger,
): PortClient<M, E> {
  let nextId = 1;
  let closed = false;
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<string, Set<(data: unknown) => void>>();

  port.onMessage((message) => {
    if (isPortResponse(message)) {
      const waiter = pending.get(message.id);
      if (!waiter) return log?.warn('response for unknown request dropped', message.id);
      pending.delete(message.id);
      if ('error' in message) waiter.reject(new RemoteError(message.error));
      else waiter.resolve(message.result);
    } else if (isPortEvent(message)) {
      for (const listener of listeners.get(message.event) ?? []) listener(message.data);
    } else {
      log?.warn('unknown message dropped', message);
    }
  });
  port.onDisconnect(() => {
    closed = true;
    for (const waiter of pending.values()) {
      waiter.reject(new RemoteError({ code: ProviderErrorCode.DISCONNECTED, message: 'Disconnected from the extension' }));
    }
    pending.clear();
  });

  return {
    get closed() {
      return closed;
    },
    request(method, ...rest) {
      if (closed) {
        return Promise.reject(new RemoteError({ code: ProviderErrorCode.DISCONNECTED, message: 'Disconnected from the extension' }));
      }
      const id = String(nextId++);
      const message: PortRequest = { v: PROTOCOL_VERSION, type: 'request', id, method };
      if (rest.length > 0) message.params = rest[0];
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject } as never);
        port.postMessage(message);
      });
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (data: unknown) => void);
      return () => set.delete(listener as (data: unknown) => void);
    },
    close() {
      closed = true;
      port.disconnect();
    },
  };
}

export type RequestHandler = (method: string, params: unknown) => Promise<unknown>;

/**
 * Server side: answers each request with the handler's result or error; drops and logs anything
 * that is not a well-formed request. Returns `emit` for events and the in-flight count.
 */
export function servePort(
  port: PortLike,
  handler: RequestHandler,
  log: Logger,
  options: { maxInFlight?: number; onLimit?: () => WireError } = {},
): { emit(event: string, data: unknown): void; readonly inFlight: number; readonly connected: boolean } {
  let inFlight = 0;
  let connected = true;
  port.onDisconnect(() => {
    connected = false;
  });
  const send = (message: unknown) => {
    if (connected) port.postMessage(message);
  };
  port.onMessage((message) => {
    if (!isPortRequest(message)) {
      log.warn('dropped unknown or malformed message', describe(message));
      return;
    }
    const { id, method, params } = message;
    if (options.maxInFlight !== undefined && inFlight >= options.maxInFlight) {
      const error = options.onLimit?.() ?? { code: ProviderErrorCode.LIMIT_EXCEEDED, message: 'Too many requests in flight' };
      send({ v: PROTOCOL_VERSION, type: 'response', id, error });
      return;
    }
    inFlight++;
    handler(method, params).then(
      (result) => send({ v: PROTOCOL_VERSION, type: 'response', id, result: result ?? null }),
      (err: unknown) => {
        const error = toWireError(err);
        if (error.code === ProviderErrorCode.INTERNAL) log.error(`${method} failed`, err);
        send({ v: PROTOCOL_VERSION, type: 'response', id, error });
      },
    ).finally(() => {
      inFlight--;
    });
  });
  return {
    emit: (event, data) => send({ v: PROTOCOL_VERSION, type: 'event', event, data }),
    get inFlight() {
      return inFlight;
    },
    get connected() {
      return connected;
    },
  };
}

/** A short description of an unexpected message for logs, never the whole (maybe huge) body. */
export function describe(message: unknown): string {
  if (typeof message !== 'object' || message === null) return typeof message;
  const keys = Object.keys(message).slice(0, 8).join(',');
  const type = (message as { type?: unknown }).type;
  return `{${keys}}${typeof type === 'string' ? ` type=${type.slice(0, 32)}` : ''}`;
}
