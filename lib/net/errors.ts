import { P2pbError } from '../util/errors.ts';

/** Every error code lib/net throws itself (record decoders add RECORD_ERROR_CODES from lib/records). */
export const NET_ERROR_CODES = [
  'INVALID_NETWORK_ID',
  'INVALID_NETWORK_SECRET',
  'INVALID_NETWORK_CONFIG',
  'INVALID_RECORD_KEY',
  'RECORD_KEY_MISMATCH',
  'WRONG_NETWORK',
  'EXPIRED_RECORD',
  'RECORD_LIFETIME_TOO_LONG',
  'STALE_RECORD',
  'RECORD_NOT_FOUND',
  'PEER_UNREACHABLE',
  'MEMBERSHIP_REFUSED',
  'DHT_MESSAGE_TOO_LARGE',
  'NODE_NOT_RUNNING',
  'INVALID_LINK',
  'UNKNOWN_LINK_KIND',
  'LINK_TOO_LONG',
  'MALFORMED_INVITE',
  'UNSUPPORTED_INVITE_VERSION',
  'INVALID_INVITE_FIELD',
] as const;
export type NetErrorCode = (typeof NET_ERROR_CODES)[number];

// ---------------------------------------------------------------------------------------------
// Networks

/** Not the text form of a network id (26 characters of lower-case base32). */
export class InvalidNetworkIdError extends P2pbError {
  constructor(message = 'invalid network id: expected 26 characters of lower-case base32') {
    super('INVALID_NETWORK_ID', message);
  }
}

/** A closed network's secret that is not NETWORK_SECRET_BYTES bytes. */
export class InvalidNetworkSecretError extends P2pbError {
  constructor(message: string) {
    super('INVALID_NETWORK_SECRET', message);
  }
}

/** createNetworkNode was given settings it cannot run with. */
export class InvalidNetworkConfigError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_NETWORK_CONFIG', message, options);
  }
}

/** The node was stopped (or not started) when asked to do network work. */
export class NodeNotRunningError extends P2pbError {
  constructor(message = 'the network node is not running') {
    super('NODE_NOT_RUNNING', message);
  }
}

// ---------------------------------------------------------------------------------------------
// Address records in the DHT (the validator's refusals; signature and encoding errors are
// lib/records' own: BAD_RECORD_SIGNATURE, RECORD_TOO_LARGE, …)

/** A DHT key that is not /p2pb-addr/<identity public key text>. */
export class InvalidRecordKeyError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_RECORD_KEY', message, options);
  }
}

/** The record's public key is not the one its DHT key names. */
export class RecordKeyMismatchError extends P2pbError {
  constructor(message = 'the record is signed by another key than the one its DHT key names') {
    super('RECORD_KEY_MISMATCH', message);
  }
}

/** The record names another network than the DHT it was offered to. */
export class WrongNetworkError extends P2pbError {
  constructor(expected: string, actual: string) {
    super('WRONG_NETWORK', `record is for network ${actual}, this is network ${expected}`);
  }
}

export class ExpiredRecordError extends P2pbError {
  constructor(expiresAt: number, now: number) {
    super('EXPIRED_RECORD', `record expired at ${new Date(expiresAt).toISOString()} (now ${new Date(now).toISOString()})`);
  }
}

/** expiresAt further in the future than MAX_ADDRESS_RECORD_LIFETIME allows. */
export class RecordLifetimeTooLongError extends P2pbError {
  constructor(expiresAt: number, limit: number) {
    super(
      'RECORD_LIFETIME_TOO_LONG',
      `record expires at ${new Date(expiresAt).toISOString()}, later than the limit ${new Date(limit).toISOString()}`,
    );
  }
}

/** Older (lower sequence, or same sequence and earlier expiry) than the record already stored. */
export class StaleRecordError extends P2pbError {
  readonly sequence: number;
  readonly storedSequence: number;

  constructor(sequence: number, storedSequence: number) {
    super('STALE_RECORD', `record has sequence ${sequence}, the stored one ${storedSequence} is newer`);
    this.sequence = sequence;
    this.storedSequence = storedSequence;
  }
}

/** No valid record for that identity was found in this network. */
export class RecordNotFoundError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RECORD_NOT_FOUND', message, options);
  }
}

/** None of the peers serving an identity could be dialled. */
export class PeerUnreachableError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PEER_UNREACHABLE', message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Closed networks

/** The peer did not prove it holds the network secret (or we did not, to it). */
export class MembershipRefusedError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MEMBERSHIP_REFUSED', message, options);
  }
}

/** An inbound DHT stream delivered more than MAX_DHT_INBOUND_STREAM_BYTES. */
export class DhtMessageTooLargeError extends P2pbError {
  constructor(received: number, limit: number) {
    super('DHT_MESSAGE_TOO_LARGE', `inbound DHT stream sent ${received} bytes, limit is ${limit}`);
  }
}

// ---------------------------------------------------------------------------------------------
// web+p2p: links and invites

/** Not a web+p2p: link at all, or not of the form web+p2p:<kind>/<payload>. */
export class InvalidLinkError extends P2pbError {
  constructor(message: string) {
    super('INVALID_LINK', message);
  }
}

/** A web+p2p: link of a kind this code does not know (or not the kind asked for). */
export class UnknownLinkKindError extends P2pbError {
  readonly kind: string;

  constructor(kind: string, message?: string) {
    super('UNKNOWN_LINK_KIND', message ?? `unknown web+p2p: link kind ${JSON.stringify(kind.slice(0, 32))}`);
    this.kind = kind;
  }
}

/** Longer than MAX_LINK_LENGTH; refused before decoding. */
export class LinkTooLongError extends P2pbError {
  constructor(length: number, limit: number) {
    super('LINK_TOO_LONG', `link is ${length} characters, limit is ${limit}`);
  }
}

/** The invite payload is not base64url of strict, deterministic CBOR of the expected shape. */
export class MalformedInviteError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_INVITE', message, options);
  }
}

export class UnsupportedInviteVersionError extends P2pbError {
  readonly version: number;

  constructor(version: number) {
    super('UNSUPPORTED_INVITE_VERSION', `unsupported invite version ${version}; a newer P2P Browser may read it`);
    this.version = version;
  }
}

/** A field of the invite has the wrong type or breaks its limits; `field` names it. */
export class InviteFieldError extends P2pbError {
  readonly field: string;

  constructor(field: string, reason: string) {
    super('INVALID_INVITE_FIELD', `invalid invite field "${field}": ${reason}`);
    this.field = field;
  }
}
