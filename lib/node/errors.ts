import { P2pbError } from '../util/errors.ts';

/** Every error code the always-on node and its front door use. Stable: tests and clients match on them. */
export const NODE_ERROR_CODES = [
  // data directory
  'DATA_DIR_INVALID',
  'DATA_DIR_LOCKED',
  'UNSUPPORTED_DATA_FORMAT',
  'NETWORK_NOT_FOUND',
  'NETWORK_EXISTS',
  'AMBIGUOUS_NETWORK_ID',
  'PORT_UNAVAILABLE',
  // command line
  'USAGE',
  // front door, on the wire: { v, type: 'error', code, message }
  'HOST_MESSAGE_TOO_LARGE',
  'HOST_MESSAGE_MALFORMED',
  'HOST_UNKNOWN_MESSAGE',
  'HOST_UNSUPPORTED_VERSION',
  'HOST_TIMEOUT',
  'HOST_REFUSED',
  'HOST_FULL',
  'HOST_NETWORK_CONFLICT',
  'HOST_FAILED',
] as const;
export type NodeErrorCode = (typeof NODE_ERROR_CODES)[number];

// ---------------------------------------------------------------------------------------------
// Data directory

/** A data-directory path or file that is not what p2pb-node wrote (not JSON, wrong shape, …). */
export class DataDirInvalidError extends P2pbError {
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('DATA_DIR_INVALID', `${path}: ${reason}`, options);
    this.path = path;
  }
}

/** Another `p2pb-node run` owns the data directory. */
export class DataDirLockedError extends P2pbError {
  readonly pid: number;

  constructor(dir: string, pid: number) {
    super('DATA_DIR_LOCKED', `${dir} is in use by p2pb-node run (pid ${pid}); stop it or use another --data`);
    this.pid = pid;
  }
}

/** A file written by a newer p2pb-node (or an unknown format). */
export class UnsupportedDataFormatError extends P2pbError {
  readonly version: unknown;

  constructor(path: string, version: unknown) {
    super('UNSUPPORTED_DATA_FORMAT', `${path} has format version ${JSON.stringify(version)}; this p2pb-node reads up to 1`);
    this.version = version;
  }
}

export class NetworkNotFoundError extends P2pbError {
  constructor(id: string) {
    super('NETWORK_NOT_FOUND', `no network ${JSON.stringify(id)} in this data directory`);
  }
}

/** The network is already in the data directory (join twice, create with a taken id). */
export class NetworkExistsError extends P2pbError {
  constructor(id: string) {
    super('NETWORK_EXISTS', `network ${id} is already in this data directory`);
  }
}

/** A network id prefix that matches more than one network. */
export class AmbiguousNetworkIdError extends P2pbError {
  constructor(prefix: string, matches: readonly string[]) {
    super('AMBIGUOUS_NETWORK_ID', `${JSON.stringify(prefix)} matches ${matches.length} networks: ${matches.join(', ')}`);
  }
}

/** No port could be bound (an explicit one is taken, or none free was found). */
export class PortUnavailableError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PORT_UNAVAILABLE', message, options);
  }
}

/** Bad command line. The CLI prints the message and the usage, and exits 2. */
export class UsageError extends P2pbError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

// ---------------------------------------------------------------------------------------------
// Front door (/p2pb/host/1.0.0). Each class is both what the front door sends and what
// requestHostedNetwork throws when it receives that code.

/** A message whose length prefix exceeds MAX_HOST_MESSAGE_BYTES; refused before it is read. */
export class HostMessageTooLargeError extends P2pbError {
  constructor(message = 'host-protocol message too large') {
    super('HOST_MESSAGE_TOO_LARGE', message);
  }
}

/** Not UTF-8 JSON of a known shape, or a field breaks its rules. */
export class HostMessageMalformedError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HOST_MESSAGE_MALFORMED', message, options);
  }
}

/** A well-formed message of a `type` this side does not handle. */
export class HostUnknownMessageError extends P2pbError {
  constructor(type: unknown) {
    super('HOST_UNKNOWN_MESSAGE', `unknown host-protocol message type ${JSON.stringify(String(type).slice(0, 32))}`);
  }
}

export class HostUnsupportedVersionError extends P2pbError {
  constructor(version: unknown) {
    super('HOST_UNSUPPORTED_VERSION', `unsupported host-protocol version ${JSON.stringify(version)}`);
  }
}

/** The other side did not send its message in time. */
export class HostTimeoutError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HOST_TIMEOUT', message, options);
  }
}

/** The node does not host networks for browsers (it was not started with --open). */
export class HostRefusedError extends P2pbError {
  constructor(message = 'this node hosts only the networks its operator added (it is not an --open node)') {
    super('HOST_REFUSED', message);
  }
}

/** An --open node that already hosts as many networks as its operator allows. */
export class HostFullError extends P2pbError {
  constructor(limit: number) {
    super('HOST_FULL', `this node already hosts ${limit} networks, its limit`);
  }
}

/** The node already hosts a network with that id, with another name or secret. */
export class HostNetworkConflictError extends P2pbError {
  constructor(id: string) {
    super('HOST_NETWORK_CONFLICT', `network ${id} is already hosted here with another name or secret`);
  }
}

/** The node accepted the request but could not start the network. */
export class HostFailedError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HOST_FAILED', message, options);
  }
}

/** The named error class for a host-protocol error code received from the other side. */
export function hostErrorFromCode(code: string, message: string): P2pbError {
  switch (code) {
    case 'HOST_MESSAGE_TOO_LARGE':
      return new HostMessageTooLargeError(message);
    case 'HOST_MESSAGE_MALFORMED':
      return new HostMessageMalformedError(message);
    case 'HOST_UNKNOWN_MESSAGE': {
      const error = new HostUnknownMessageError('');
      error.message = message;
      return error;
    }
    case 'HOST_UNSUPPORTED_VERSION': {
      const error = new HostUnsupportedVersionError('');
      error.message = message;
      return error;
    }
    case 'HOST_TIMEOUT':
      return new HostTimeoutError(message);
    case 'HOST_REFUSED':
      return new HostRefusedError(message);
    case 'HOST_FULL': {
      const error = new HostFullError(0);
      error.message = message;
      return error;
    }
    case 'HOST_NETWORK_CONFLICT': {
      const error = new HostNetworkConflictError('');
      error.message = message;
      return error;
    }
    default:
      // HOST_FAILED, and codes from a newer node: keep the code, so callers can still match on it.
      return code === 'HOST_FAILED' ? new HostFailedError(message) : new P2pbError(code, message);
  }
}
