import { base32nopad } from '@scure/base';
import { randomBytes } from '../util/bytes.ts';
import { networkIdProblem } from '../records/index.ts';
import {
  AUTH_PROTOCOL_NAME,
  AUTH_PROTOCOL_VERSION,
  DHT_PROTOCOL_NAME,
  DHT_PROTOCOL_VERSION,
  NETWORK_ID_BYTES,
  NETWORK_SECRET_BYTES,
  PROTOCOL_PREFIX,
} from './constants.ts';
import { InvalidNetworkIdError, InvalidNetworkSecretError } from './errors.ts';

/**
 * A new network id: 16 bytes from the platform CSPRNG (128 bits, so two networks never get the
 * same id by accident), as 26 characters of lower-case RFC 4648 base32 without padding. The text
 * form is what appears in protocol ids, records and invites.
 */
export function createNetworkId(): string {
  return networkIdFromBytes(randomBytes(NETWORK_ID_BYTES));
}

/** The text form of 16 id bytes. @throws InvalidNetworkIdError for another length. */
export function networkIdFromBytes(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== NETWORK_ID_BYTES) {
    throw new InvalidNetworkIdError(`a network id is ${NETWORK_ID_BYTES} bytes`);
  }
  return base32nopad.encode(bytes).toLowerCase();
}

/** The 16 bytes of a network id text. @throws InvalidNetworkIdError */
export function networkIdToBytes(text: string): Uint8Array {
  assertNetworkId(text);
  return base32nopad.decode(text.toUpperCase());
}

/** True when `text` is a network id in its one canonical text form. */
export function isNetworkId(text: unknown): text is string {
  return networkIdProblem(text) === null;
}

/** @throws InvalidNetworkIdError unless `text` is a network id in canonical text form. */
export function assertNetworkId(text: unknown): asserts text is string {
  const problem = networkIdProblem(text);
  if (problem !== null) throw new InvalidNetworkIdError(`invalid network id: ${problem}`);
}

/** A new closed-network secret: 32 bytes from the platform CSPRNG. */
export function createNetworkSecret(): Uint8Array {
  return randomBytes(NETWORK_SECRET_BYTES);
}

/** @throws InvalidNetworkSecretError unless `secret` is NETWORK_SECRET_BYTES bytes. */
export function assertNetworkSecret(secret: unknown): asserts secret is Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length !== NETWORK_SECRET_BYTES) {
    throw new InvalidNetworkSecretError(`a network secret is a Uint8Array of ${NETWORK_SECRET_BYTES} bytes`);
  }
}

/** The network's Kademlia protocol: /p2pb/<networkId>/kad/1.0.0. */
/** `/p2pb/<networkId>/<name>/<version>`: every protocol of a network is named after it. */
export function networkProtocol(networkId: string, name: string, version: string): string {
  assertNetworkId(networkId);
  return `${PROTOCOL_PREFIX}/${networkId}/${name}/${version}`;
}

export function dhtProtocol(networkId: string): string {
  assertNetworkId(networkId);
  return `${PROTOCOL_PREFIX}/${networkId}/${DHT_PROTOCOL_NAME}/${DHT_PROTOCOL_VERSION}`;
}

/** The closed network's membership handshake: /p2pb/<networkId>/auth/1.0.0. */
export function authProtocol(networkId: string): string {
  assertNetworkId(networkId);
  return `${PROTOCOL_PREFIX}/${networkId}/${AUTH_PROTOCOL_NAME}/${AUTH_PROTOCOL_VERSION}`;
}
