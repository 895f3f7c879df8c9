import { P2pbError } from '../util/errors.ts';

/**
 * Stable error codes that cross context boundaries. Page-facing codes follow EIP-1193 and
 * EIP-1474 (JSON-RPC) so dapp developers recognise them; the rest are named strings from the
 * module that raised them (e.g. 'WRONG_PASSPHRASE' from lib/vault).
 */
export const ProviderErrorCode = {
  /** The person refused (closed or rejected the prompt). */
  USER_REJECTED: 4001,
  /** The origin has no grant for this (ask p2p_requestIdentity first, or the sign grant). */
  UNAUTHORIZED: 4100,
  /** No such method. */
  UNSUPPORTED_METHOD: 4200,
  /** The extension restarted or the connection dropped while the request was in flight. */
  DISCONNECTED: 4900,
  /** A prompt for this origin is already open: one at a time (MetaMask's -32002). */
  REQUEST_PENDING: -32002,
  /** Too many requests in flight, or the prompt queue is full. */
  LIMIT_EXCEEDED: -32005,
  INVALID_REQUEST: -32600,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
} as const;

export type ProviderErrorCodeValue = (typeof ProviderErrorCode)[keyof typeof ProviderErrorCode];

/** What an error looks like on the wire, in every channel. */
export interface WireError {
  code: number | string;
  message: string;
}

/** An error a page receives from `p2p.request` (EIP-1193's ProviderRpcError). */
export class ProviderError extends Error {
  readonly code: number;
  constructor(code: ProviderErrorCodeValue, message: string) {
    super(message);
    this.code = code;
    this.name = 'ProviderError';
  }
}

/** Turns anything thrown into a wire error; unknown errors never leak their stack or details. */
export function toWireError(err: unknown): WireError {
  if (err instanceof ProviderError) return { code: err.code, message: err.message };
  if (err instanceof P2pbError) return { code: err.code, message: err.message };
  // A named error from another context (the engine's STORAGE_FULL, FEED_NOT_FOUND…) keeps its name.
  if (err instanceof RemoteError) return { code: err.code, message: err.message };
  return { code: ProviderErrorCode.INTERNAL, message: 'Internal error' };
}

/** The error a privileged page (popup) rethrows from a wire error, keeping its code. */
export class RemoteError extends Error {
  readonly code: number | string;
  constructor(wire: WireError) {
    super(wire.message);
    this.code = wire.code;
    this.name = 'RemoteError';
  }
}
