/**
 * The network engine. Plain TypeScript that runs in the Chrome offscreen document, the Firefox
 * background page and Node alike; built like js-libp2p services: `createEngine(init)(components)`.
 * It holds no private keys: it asks its `signer` (the background's vault) for signatures.
 *
 * It runs the person's networks (lib/net nodes, one per network) through a NetworkManager.
 */
import {
  PROTOCOL_VERSION,
  ProviderError,
  ProviderErrorCode,
  type EngineMethods,
  type EngineStatus,
  type IdentityView,
} from '../protocol/index.ts';
import type { KeyValueStore } from '../kv/index.ts';
import { MemoryKeyValueStore } from '../kv/index.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { NetworkManager, type NetworkManagerInit } from './networks.ts';

export { NetworkManager, UnknownNetworkError } from './networks.ts';

/** Signatures on the engine's behalf, in engine contexts only (address records, later feeds). */
export interface Signer {
  sign(identity: string, context: string, message: Uint8Array): Promise<Uint8Array>;
  identities(): Promise<IdentityView[]>;
}

export interface EngineInit {
  host: EngineStatus['host'];
  networks?: NetworkManagerInit;
}

export interface EngineComponents {
  signer: Signer;
  /** Where the engine keeps its state: IndexedDB in the browser, memory in tests. */
  kv?: KeyValueStore;
  log?: Logger;
  now?: () => number;
  /** Told after any change a UI would show (network status, peers). */
  onChange?: () => void;
}

export interface Engine {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly running: boolean;
  readonly networks: NetworkManager;
  status(): EngineStatus;
  /** Answers one request from the background; unknown methods are an UNSUPPORTED_METHOD error. */
  handle(method: string, params: unknown): Promise<unknown>;
}

export const createEngine =
  (init: EngineInit) =>
  (components: EngineComponents): Engine => {
    const log = components.log ?? createLogger(`engine:${init.host}`);
    const now = components.now ?? Date.now;
    let startedAt = 0;
    let running = false;
    const networks = new NetworkManager(init.networks ?? {}, {
      kv: components.kv ?? new MemoryKeyValueStore(),
      signer: components.signer,
      log,
      now,
    });
    if (components.onChange) networks.onChange(components.onChange);
    const param = <T>(params: unknown, key: string, type: 'string' | 'boolean'): T => {
      const value = (params as Record<string, unknown> | null | undefined)?.[key];
      if (typeof value !== type) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `${key} must be a ${type}`);
      return value as T;
    };

    const status = (): EngineStatus => ({
      running,
      host: init.host,
      startedAt,
      webrtc: typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function',
      protocolVersion: PROTOCOL_VERSION,
    });

    const handlers: { [M in keyof EngineMethods]: (params: unknown) => Promise<EngineMethods[M]['result']> } = {
      'engine.ping': async () => {
        if (!running) throw new ProviderError(ProviderErrorCode.DISCONNECTED, 'The engine is not running');
        return { ready: true };
      },
      'engine.status': async () => status(),
      'net.list': async () => networks.list(),
      'net.join': async (params) => networks.join(param(params, 'link', 'string'), param(params, 'identity', 'string')),
      'net.create': async (params) =>
        networks.create({
          name: param(params, 'name', 'string'),
          host: param(params, 'host', 'string'),
          identity: param(params, 'identity', 'string'),
          closed: param(params, 'closed', 'boolean'),
        }),
      'net.connect': async (params) => networks.connect(param(params, 'id', 'string'), param(params, 'publicKey', 'string')),
      'net.peers': async (params) => networks.peers(param(params, 'id', 'string')),
      'net.leave': async (params) => {
        await networks.leave(param(params, 'id', 'string'));
        return null;
      },
    };

    return {
      networks,
      get running() {
        return running;
      },
      async start() {
        if (running) return;
        startedAt = now();
        running = true;
        log.info('started', status());
        // Networks start in the background: a slow bootstrap node must not hold up readiness.
        networks.start().catch((err: unknown) => log.error('networks failed to start', err));
      },
      async stop() {
        running = false;
        await networks.stop();
        log.info('stopped');
      },
      status,
      async handle(method, params) {
        const handler = (handlers as Record<string, (p: unknown) => Promise<unknown>>)[method];
        if (!handler) throw new ProviderError(ProviderErrorCode.UNSUPPORTED_METHOD, `Unsupported engine method ${method}`);
        return handler(params);
      },
    };
  };
