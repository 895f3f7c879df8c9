/**
 * The front-door protocol `/p2pb/host/1.0.0` (docs/node.md#front-door-protocol): a browser asks
 * an always-on node to host a network it just created. One request, one answer, per stream.
 *
 * Framing: unsigned-varint length prefix, then that many bytes of UTF-8 JSON; at most
 * MAX_HOST_MESSAGE_BYTES, refused from the prefix before the body is read. Every message has
 * `v` (HOST_PROTOCOL_VERSION) and `type`:
 *
 *     → { v: 1, type: "create-network", networkId, name, closed, secret?, settings? }
 *     ← { v: 1, type: "network-hosted", networkId, bootstrap: [multiaddr, …], created }
 *     ← { v: 1, type: "error", code, message }
 *
 * The connection is Noise-encrypted, so a closed network's secret (base64url) travels safely.
 * This module is shared by the node (server) and the browser engine (client): it imports nothing
 * from Node.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { P2pbError } from '../util/errors.ts';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../util/bytes.ts';
import type { Logger } from '../util/log.ts';
import {
  MAX_DHT_ALPHA,
  MAX_DHT_DISJOINT_PATHS,
  MAX_DHT_K_BUCKET_SIZE,
  MAX_INVITE_BOOTSTRAP_PEERS,
  MIN_DHT_ALPHA,
  MIN_DHT_DISJOINT_PATHS,
  MIN_DHT_K_BUCKET_SIZE,
  NETWORK_SECRET_BYTES,
} from '../net/constants.ts';
import type { EngineSettings } from '../net/invite.ts';
import { isNetworkId } from '../net/network-id.ts';
import { displayNameProblem, multiaddrTextProblem } from '../records/index.ts';
import {
  HOST_CREATE_TIMEOUT,
  HOST_PROTOCOL,
  HOST_PROTOCOL_VERSION,
  HOST_READ_TIMEOUT,
  HOST_REQUEST_TIMEOUT,
  MAX_HOST_MESSAGE_BYTES,
} from './constants.ts';
import {
  HostFailedError,
  HostMessageMalformedError,
  HostMessageTooLargeError,
  HostTimeoutError,
  HostUnknownMessageError,
  HostUnsupportedVersionError,
  hostErrorFromCode,
} from './errors.ts';

export { HOST_PROTOCOL, HOST_PROTOCOL_VERSION, MAX_HOST_MESSAGE_BYTES };

// ---------------------------------------------------------------------------------------------
// Messages

/** What a browser asks for: host this network (it made the id, and the secret if closed). */
export interface HostedNetworkRequest {
  networkId: string;
  /** The network's name (display-name rules, as in invites). */
  name: string;
  /** A closed network's 32-byte secret; absent for an open network. */
  secret?: Uint8Array;
  /** The engine settings the invite will carry (the node's DHT runs with them). */
  settings?: EngineSettings;
}

/** The node's answer: where it serves the network (put these in the invite). */
export interface HostedNetwork {
  networkId: string;
  /** Multiaddrs ending in /p2p/<the node's PeerId in this network>. */
  bootstrap: string[];
  /** False when the node already hosted this very network (a retried request). */
  created: boolean;
}

export interface CreateNetworkMessage {
  v: typeof HOST_PROTOCOL_VERSION;
  type: 'create-network';
  networkId: string;
  name: string;
  closed: boolean;
  /** base64url (no padding) of the secret; present exactly when `closed`. */
  secret?: string;
  settings?: EngineSettings;
}

export interface NetworkHostedMessage {
  v: typeof HOST_PROTOCOL_VERSION;
  type: 'network-hosted';
  networkId: string;
  bootstrap: string[];
  created: boolean;
}

export interface HostErrorMessage {
  v: typeof HOST_PROTOCOL_VERSION;
  type: 'error';
  code: string;
  message: string;
}

export type HostRequestMessage = CreateNetworkMessage;
export type HostResponseMessage = NetworkHostedMessage | HostErrorMessage;

const SETTING_RANGES: Record<keyof EngineSettings, [number, number]> = {
  dhtAlpha: [MIN_DHT_ALPHA, MAX_DHT_ALPHA],
  dhtDisjointPaths: [MIN_DHT_DISJOINT_PATHS, MAX_DHT_DISJOINT_PATHS],
  dhtKBucketSize: [MIN_DHT_K_BUCKET_SIZE, MAX_DHT_K_BUCKET_SIZE],
};
/** Longest error `message` sent (the code is what matters). */
const MAX_ERROR_MESSAGE_LENGTH = 512;

/** The bytes of a message (JSON, UTF-8). @throws HostMessageTooLargeError */
export function encodeHostMessage(message: HostRequestMessage | HostResponseMessage): Uint8Array {
  const bytes = utf8(JSON.stringify(message));
  if (bytes.length > MAX_HOST_MESSAGE_BYTES) {
    throw new HostMessageTooLargeError(`host-protocol message is ${bytes.length} bytes, limit ${MAX_HOST_MESSAGE_BYTES}`);
  }
  return bytes;
}

function parseObject(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length > MAX_HOST_MESSAGE_BYTES) {
    throw new HostMessageTooLargeError(`host-protocol message is ${bytes.length} bytes, limit ${MAX_HOST_MESSAGE_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new HostMessageMalformedError('host-protocol message is not UTF-8 JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HostMessageMalformedError('host-protocol message is not a JSON object');
  }
  const message = value as Record<string, unknown>;
  if (message.v !== HOST_PROTOCOL_VERSION) throw new HostUnsupportedVersionError(message.v);
  if (typeof message.type !== 'string') throw new HostMessageMalformedError('host-protocol message has no type');
  return message;
}

function checkSettings(value: unknown): EngineSettings {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HostMessageMalformedError('settings: expected an object');
  }
  const settings: EngineSettings = {};
  for (const [name, setting] of Object.entries(value)) {
    if (!Object.hasOwn(SETTING_RANGES, name)) {
      throw new HostMessageMalformedError(`settings: unknown setting ${JSON.stringify(name.slice(0, 32))}`);
    }
    const [min, max] = SETTING_RANGES[name as keyof EngineSettings];
    if (typeof setting !== 'number' || !Number.isSafeInteger(setting) || setting < min || setting > max) {
      throw new HostMessageMalformedError(`settings.${name}: expected an integer in ${min}..${max}`);
    }
    settings[name as keyof EngineSettings] = setting;
  }
  return settings;
}

/**
 * Decodes and checks a request. @throws HostMessageTooLargeError, HostMessageMalformedError,
 * HostUnsupportedVersionError, HostUnknownMessageError
 */
export function decodeHostRequest(bytes: Uint8Array): HostedNetworkRequest {
  const message = parseObject(bytes);
  if (message.type !== 'create-network') throw new HostUnknownMessageError(message.type);
  const allowed = new Set(['v', 'type', 'networkId', 'name', 'closed', 'secret', 'settings']);
  const extra = Object.keys(message).find((key) => !allowed.has(key));
  if (extra !== undefined) throw new HostMessageMalformedError(`unknown field ${JSON.stringify(extra.slice(0, 32))}`);
  if (!isNetworkId(message.networkId)) throw new HostMessageMalformedError('networkId: not a network id');
  const nameProblem = displayNameProblem(message.name);
  if (nameProblem !== null) throw new HostMessageMalformedError(`name: ${nameProblem}`);
  if (typeof message.closed !== 'boolean') throw new HostMessageMalformedError('closed: expected a boolean');
  const request: HostedNetworkRequest = {
    networkId: message.networkId,
    name: message.name as string,
    settings: checkSettings(message.settings),
  };
  if (message.closed) {
    let secret: Uint8Array | undefined;
    try {
      secret = typeof message.secret === 'string' ? fromBase64url(message.secret) : undefined;
    } catch {
      secret = undefined;
    }
    if (secret?.length !== NETWORK_SECRET_BYTES) {
      throw new HostMessageMalformedError(`secret: a closed network needs base64url of ${NETWORK_SECRET_BYTES} bytes`);
    }
    request.secret = secret;
  } else if (message.secret !== undefined) {
    throw new HostMessageMalformedError('secret: an open network has none');
  }
  return request;
}

/** The request message for `request`. */
export function createNetworkMessage(request: HostedNetworkRequest): CreateNetworkMessage {
  return {
    v: HOST_PROTOCOL_VERSION,
    type: 'create-network',
    networkId: request.networkId,
    name: request.name,
    closed: request.secret !== undefined,
    ...(request.secret === undefined ? {} : { secret: toBase64url(request.secret) }),
    ...(request.settings === undefined || Object.keys(request.settings).length === 0 ? {} : { settings: request.settings }),
  };
}

/**
 * Decodes a response: the hosted network, or the named error the node answered with (thrown).
 * @throws HostMessageMalformedError, HostUnsupportedVersionError, HostUnknownMessageError, or
 * the error class of the node's code (HostRefusedError, HostFullError, …)
 */
export function decodeHostResponse(bytes: Uint8Array, expectedNetworkId?: string): HostedNetwork {
  const message = parseObject(bytes);
  if (message.type === 'error') {
    if (typeof message.code !== 'string' || typeof message.message !== 'string') {
      throw new HostMessageMalformedError('error answer without code or message');
    }
    throw hostErrorFromCode(message.code.slice(0, 64), message.message.slice(0, MAX_ERROR_MESSAGE_LENGTH));
  }
  if (message.type !== 'network-hosted') throw new HostUnknownMessageError(message.type);
  if (!isNetworkId(message.networkId)) throw new HostMessageMalformedError('networkId: not a network id');
  if (expectedNetworkId !== undefined && message.networkId !== expectedNetworkId) {
    throw new HostMessageMalformedError(`the node answered for network ${message.networkId}, not ${expectedNetworkId}`);
  }
  const bootstrap = message.bootstrap;
  if (
    !Array.isArray(bootstrap) ||
    bootstrap.length === 0 ||
    bootstrap.length > MAX_INVITE_BOOTSTRAP_PEERS ||
    !bootstrap.every((a) => multiaddrTextProblem(a) === null && typeof a === 'string' && a.includes('/p2p/'))
  ) {
    throw new HostMessageMalformedError(`bootstrap: expected 1..${MAX_INVITE_BOOTSTRAP_PEERS} multiaddrs ending in /p2p/<peerId>`);
  }
  if (typeof message.created !== 'boolean') throw new HostMessageMalformedError('created: expected a boolean');
  return { networkId: message.networkId, bootstrap: bootstrap as string[], created: message.created };
}

export function errorMessage(error: P2pbError): HostErrorMessage {
  return { v: HOST_PROTOCOL_VERSION, type: 'error', code: error.code, message: error.message.slice(0, MAX_ERROR_MESSAGE_LENGTH) };
}

/** Maps stream-level failures (length prefix too large, time out, early end) to named errors. */
function streamError(error: unknown, what: string): P2pbError {
  if (error instanceof P2pbError) return error;
  const name = (error as Error)?.name;
  if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'InvalidMessageLengthError') {
    return new HostMessageTooLargeError(`${what} exceeds ${MAX_HOST_MESSAGE_BYTES} bytes`);
  }
  if (name === 'TimeoutError' || name === 'AbortError') return new HostTimeoutError(`no ${what} in time`, { cause: error });
  if (name === 'UnexpectedEOFError') return new HostMessageMalformedError(`the stream ended inside the ${what}`, { cause: error });
  return new HostFailedError(`${what} failed: ${(error as Error)?.message ?? error}`, { cause: error });
}

// ---------------------------------------------------------------------------------------------
// Server side

/** What the front door does with a valid request (throw a P2pbError to answer with its code). */
export type HostRequestHandler = (
  request: HostedNetworkRequest,
  context: { remotePeer: string; signal: AbortSignal },
) => Promise<{ bootstrap: string[]; created: boolean }>;

/**
 * Serves one host-protocol stream: reads one request within `readTimeout`, answers with the
 * hosted network or a named error, and closes the stream. Never throws.
 */
export async function serveHostStream(
  stream: Stream,
  connection: Connection,
  handler: HostRequestHandler,
  options: { log?: Logger; readTimeout?: number; handleTimeout?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_HOST_MESSAGE_BYTES });
  const remotePeer = connection.remotePeer.toString();
  let answer: HostResponseMessage;
  try {
    let bytes: Uint8Array;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(options.readTimeout ?? HOST_READ_TIMEOUT), ...(options.signal ? [options.signal] : [])]);
      bytes = (await lp.read({ signal })).subarray();
    } catch (error) {
      throw streamError(error, 'request');
    }
    const request = decodeHostRequest(bytes);
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.handleTimeout ?? HOST_CREATE_TIMEOUT),
      ...(options.signal ? [options.signal] : []),
    ]);
    const result = await handler(request, { remotePeer, signal });
    answer = { v: HOST_PROTOCOL_VERSION, type: 'network-hosted', networkId: request.networkId, ...result };
  } catch (error) {
    const named = error instanceof P2pbError ? error : new HostFailedError(`could not host the network: ${(error as Error)?.message ?? error}`);
    options.log?.warn('front door refused a request from', remotePeer, named.code, named.message);
    answer = errorMessage(named);
  }
  try {
    await lp.write(encodeHostMessage(answer), { signal: AbortSignal.timeout(options.readTimeout ?? HOST_READ_TIMEOUT) });
    await stream.close({ signal: AbortSignal.timeout(options.readTimeout ?? HOST_READ_TIMEOUT) });
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}

// ---------------------------------------------------------------------------------------------
// Client side

/**
 * Asks the always-on node at `frontDoorAddr` (its front door: a multiaddr ending in /p2p/<id>, as
 * `p2pb-node run` prints it) to host a network, and returns the node's bootstrap multiaddrs for
 * the invite. `libp2pNode` must use plain Noise (no network prologue): a network's own node
 * cannot connect to a front door.
 * @throws HostRefusedError (not an --open node), HostFullError, HostNetworkConflictError,
 * HostMessageMalformedError, HostMessageTooLargeError, HostTimeoutError, HostFailedError, the
 * dial's error, or the caller's abort reason
 */
export async function requestHostedNetwork(
  libp2pNode: Libp2p,
  frontDoorAddr: Multiaddr | string,
  request: HostedNetworkRequest,
  options: { signal?: AbortSignal } = {},
): Promise<HostedNetwork> {
  const bytes = encodeHostMessage(createNetworkMessage(request));
  // Check our own request as the node will, so a bad field is reported here, by name.
  decodeHostRequest(bytes);
  const timeout = AbortSignal.timeout(HOST_REQUEST_TIMEOUT);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const address = typeof frontDoorAddr === 'string' ? multiaddr(frontDoorAddr) : frontDoorAddr;
  const stream = await libp2pNode.dialProtocol(address, HOST_PROTOCOL, { signal });
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_HOST_MESSAGE_BYTES });
    await lp.write(bytes, { signal });
    let answer: Uint8Array;
    try {
      answer = (await lp.read({ signal })).subarray();
    } catch (error) {
      options.signal?.throwIfAborted();
      throw streamError(error, 'answer');
    }
    const hosted = decodeHostResponse(answer, request.networkId);
    await stream.close({ signal }).catch(() => {});
    return hosted;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}
