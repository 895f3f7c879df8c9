/**
 * The network engine. Plain TypeScript that runs in the Chrome offscreen document, the Firefox
 * background page and Node alike; built like js-libp2p services: `createEngine(init)(components)`.
 * It holds no private keys: it asks its `signer` (the background's vault) for signatures.
 *
 * Today it only starts, reports readiness and status; networks (lib/net) plug in here next.
 */
import {
  PROTOCOL_VERSION,
  ProviderError,
  ProviderErrorCode,
  type EngineMethods,
  type EngineStatus,
  type IdentityView,
} from '../protocol/index.ts';
import { createLogger, type Logger } from '../util/log.ts';

/** Signatures on the engine's behalf, in engine contexts only (address records, later feeds). */
export interface Signer {
  sign(identity: string, context: string, message: Uint8Array): Promise<Uint8Array>;
  identities(): Promise<IdentityView[]>;
}

export interface EngineInit {
  host: EngineStatus['host'];
}

export interface EngineComponents {
  signer: Signer;
  log?: Logger;
  now?: () => number;
}

export interface Engine {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly running: boolean;
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
    };

    return {
      get running() {
        return running;
      },
      async start() {
        if (running) return;
        startedAt = now();
        running = true;
        log.info('started', status());
      },
      async stop() {
        running = false;
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
