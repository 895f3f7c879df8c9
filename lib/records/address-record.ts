import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { toBase64url, utf8 } from '../util/bytes.ts';
import { CONTEXTS, createSigningKey, encodePublicKey } from '../identity/index.ts';
import {
  checkPublicKey,
  checkSignature,
  checkTimestamp,
  decodeRecordArray,
  encodeRecord,
  requireSignature,
} from './codec.ts';
import type { RecordSigner } from './codec.ts';
import {
  MAX_ADDRESSES_PER_ENTRY,
  MAX_ADDRESS_RECORD_BYTES,
  MAX_MULTIADDR_TEXT_BYTES,
  MAX_PEER_ID_TEXT_BYTES,
  MAX_SERVED_BY_ENTRIES,
  NETWORK_ID_PATTERN,
  RECORD_TYPES,
  RECORD_VERSION,
  SERVED_BY_KINDS,
} from './constants.ts';
import type { ServedByKind } from './constants.ts';
import { RecordFieldError, RecordTooLargeError } from './errors.ts';

/** One peer that serves the identity's data in this network, and where to dial it. */
export interface ServedBy {
  /** 'device': one of the person's own devices; 'host': an always-on node they delegated to. */
  readonly kind: ServedByKind;
  /** The libp2p PeerId (base58btc text, "12D3Koo…") of that peer's node in this network. */
  readonly peerId: string;
  /** Its multiaddrs (text), in the signer's order of preference; may be empty. */
  readonly multiaddrs: readonly string[];
}

/**
 * "In network N, the data of this identity is served by these peers", signed by the identity.
 * Wire form: [1, "address-record", publicKey, networkId, servedBy, sequence, expiresAt, signature]
 * with servedBy = [[kind, peerId, [multiaddr, …]], …]. See docs/records.md.
 */
export interface AddressRecord {
  readonly version: typeof RECORD_VERSION;
  /** The identity's ed25519 public key (also the DHT key: /p2pb-addr/<text form>). */
  readonly publicKey: Uint8Array;
  /** Text form of the network id (26 characters, base32 lower case). */
  readonly networkId: string;
  readonly servedBy: readonly ServedBy[];
  /** Higher supersedes lower; a DHT node refuses a record lower than the one it stores. */
  readonly sequence: number;
  /** ms since the Unix epoch after which nobody should store, serve or use the record. */
  readonly expiresAt: number;
  readonly signature: Uint8Array;
  /** The exact encoded record. */
  readonly bytes: Uint8Array;
}

export interface AddressRecordJSON {
  publicKey: string;
  networkId: string;
  servedBy: ServedBy[];
  sequence: number;
  expiresAt: number;
  signature: string;
  encoded: string;
}

export type CreateAddressRecordInput = {
  networkId: string;
  servedBy: readonly ServedBy[];
  sequence: number;
  expiresAt: number;
} & ({ secretKey: Uint8Array; signer?: undefined } | { signer: RecordSigner; secretKey?: undefined });

const TYPE = RECORD_TYPES.ADDRESS_RECORD;
const LENGTH = 8;

type WireServedBy = [string, string, string[]];

function unsigned(
  publicKey: Uint8Array,
  networkId: string,
  servedBy: readonly ServedBy[],
  sequence: number,
  expiresAt: number,
): Uint8Array {
  return encodeRecord([RECORD_VERSION, TYPE, publicKey, networkId, toWire(servedBy) as never, sequence, expiresAt]);
}

function toWire(servedBy: readonly ServedBy[]): WireServedBy[] {
  return servedBy.map((entry) => [
    entry.kind,
    entry.peerId,
    // Left as given when not an array, so checkServedBy reports it as a field error.
    Array.isArray(entry.multiaddrs) ? [...entry.multiaddrs] : (entry.multiaddrs as never),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Field checks (each throws RecordFieldError naming the field)

/** Why `text` is not a canonical network id text, or null when it is. */
export function networkIdProblem(text: unknown): string | null {
  if (typeof text !== 'string') return 'expected a text string';
  if (!NETWORK_ID_PATTERN.test(text)) {
    return 'expected 26 characters of lower-case base32 (16 bytes, canonical form)';
  }
  return null;
}

export function checkNetworkId(value: unknown, field: string): string {
  const problem = networkIdProblem(value);
  if (problem !== null) throw new RecordFieldError(field, problem);
  return value as string;
}

export function checkUnsigned(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RecordFieldError(field, 'expected an unsigned integer ≤ 2^53 - 1');
  }
  return value;
}

function checkTextLength(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new RecordFieldError(field, 'expected a text string');
  // UTF-8 is never shorter than the UTF-16 length, so the cheap test first.
  if (value.length > max || utf8(value).length > max) {
    throw new RecordFieldError(field, `longer than ${max} bytes`);
  }
  return value;
}

/** Lexicographic order of byte strings (shorter first when one is a prefix of the other). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Why `text` is not a canonical libp2p PeerId text, or null when it is. */
export function peerIdTextProblem(text: unknown): string | null {
  if (typeof text !== 'string') return 'expected a text string';
  if (text.length === 0 || text.length > MAX_PEER_ID_TEXT_BYTES) {
    return `expected 1..${MAX_PEER_ID_TEXT_BYTES} characters`;
  }
  let canonical: string;
  try {
    canonical = peerIdFromString(text).toString();
  } catch {
    return 'not a libp2p PeerId';
  }
  if (canonical !== text) return 'not in canonical form (base58btc multihash)';
  return null;
}

/**
 * Why `text` is not a canonical multiaddr text for `peerId` (when given), or null when it is.
 * Canonical: what @multiformats/multiaddr prints for it; at least one component; if it ends in
 * /p2p/<id>, that id is `peerId`.
 */
export function multiaddrTextProblem(text: unknown, peerId?: string): string | null {
  if (typeof text !== 'string') return 'expected a text string';
  if (text.length === 0 || text.length > MAX_MULTIADDR_TEXT_BYTES || utf8(text).length > MAX_MULTIADDR_TEXT_BYTES) {
    return `expected 1..${MAX_MULTIADDR_TEXT_BYTES} bytes`;
  }
  let ma;
  try {
    ma = multiaddr(text);
  } catch {
    return 'not a multiaddr';
  }
  if (ma.toString() !== text) return 'not in canonical form';
  const components = ma.getComponents();
  if (components.length === 0) return 'has no components';
  const last = components[components.length - 1]!;
  if (peerId !== undefined && last.name === 'p2p' && last.value !== peerId) {
    return `ends in /p2p/${last.value ?? ''}, not the entry's peerId`;
  }
  return null;
}

function checkServedBy(value: unknown, field: string): ServedBy[] {
  if (!Array.isArray(value)) throw new RecordFieldError(field, 'expected an array');
  if (value.length > MAX_SERVED_BY_ENTRIES) {
    throw new RecordFieldError(field, `at most ${MAX_SERVED_BY_ENTRIES} entries, got ${value.length}`);
  }
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!Array.isArray(entry) || entry.length !== 3) {
      throw new RecordFieldError(at, 'expected [kind, peerId, multiaddrs]');
    }
    const [kind, peerId, multiaddrs] = entry as unknown[];
    if (typeof kind !== 'string' || !(SERVED_BY_KINDS as readonly string[]).includes(kind)) {
      throw new RecordFieldError(`${at}.kind`, `expected one of ${SERVED_BY_KINDS.join(', ')}`);
    }
    const peerIdProblem = peerIdTextProblem(checkTextLength(peerId, `${at}.peerId`, MAX_PEER_ID_TEXT_BYTES));
    if (peerIdProblem !== null) throw new RecordFieldError(`${at}.peerId`, peerIdProblem);
    const id = peerId as string;
    if (seen.has(id)) throw new RecordFieldError(`${at}.peerId`, 'listed twice');
    seen.add(id);
    if (!Array.isArray(multiaddrs)) throw new RecordFieldError(`${at}.multiaddrs`, 'expected an array');
    if (multiaddrs.length > MAX_ADDRESSES_PER_ENTRY) {
      throw new RecordFieldError(
        `${at}.multiaddrs`,
        `at most ${MAX_ADDRESSES_PER_ENTRY} addresses, got ${multiaddrs.length}`,
      );
    }
    const addresses = new Set<string>();
    for (const [j, address] of (multiaddrs as unknown[]).entries()) {
      const problem = multiaddrTextProblem(address, id);
      if (problem !== null) throw new RecordFieldError(`${at}.multiaddrs[${j}]`, problem);
      if (addresses.has(address as string)) throw new RecordFieldError(`${at}.multiaddrs[${j}]`, 'listed twice');
      addresses.add(address as string);
    }
    return { kind: kind as ServedByKind, peerId: id, multiaddrs: [...addresses] };
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * Signs and encodes an address record.
 * @throws RecordFieldError for a bad field, RecordTooLargeError when the encoding exceeds
 * MAX_ADDRESS_RECORD_BYTES (too many or too long addresses).
 */
export async function createAddressRecord(input: CreateAddressRecordInput): Promise<Uint8Array> {
  const networkId = checkNetworkId(input.networkId, 'networkId');
  // Round-trip through the wire shape so create and decode apply the very same checks.
  const servedBy = checkServedBy(
    Array.isArray(input.servedBy)
      ? input.servedBy.map((e: unknown) =>
          typeof e === 'object' && e !== null && !Array.isArray(e) ? toWire([e as ServedBy])[0] : e,
        )
      : input.servedBy,
    'servedBy',
  );
  const sequence = checkUnsigned(input.sequence, 'sequence');
  const expiresAt = checkTimestamp(input.expiresAt, 'expiresAt');
  const signer = input.signer ?? (await createSigningKey(input.secretKey));
  const publicKey = checkPublicKey(signer.publicKey, 'publicKey');
  const message = unsigned(publicKey, networkId, servedBy, sequence, expiresAt);
  // The signature adds 66 bytes and the array header none (8 and 7 elements both fit in one byte).
  if (message.length + 66 > MAX_ADDRESS_RECORD_BYTES) {
    throw new RecordTooLargeError(message.length + 66, MAX_ADDRESS_RECORD_BYTES);
  }
  const signature = await signer.sign(CONTEXTS.ADDRESS_RECORD, message);
  return encodeRecord([
    RECORD_VERSION,
    TYPE,
    publicKey,
    networkId,
    toWire(servedBy) as never,
    sequence,
    expiresAt,
    signature,
  ]);
}

/**
 * Decodes and verifies an address record. Says nothing about time: whether it has expired, and
 * whether it is the newest, is for whoever stores or uses it (lib/net).
 * @throws RecordTooLargeError, MalformedRecordError, NonCanonicalRecordError,
 * UnsupportedRecordVersionError, WrongRecordTypeError, RecordFieldError, BadRecordSignatureError
 */
export async function decodeAddressRecord(bytes: Uint8Array): Promise<AddressRecord> {
  const items = decodeRecordArray(bytes, { type: TYPE, length: LENGTH, maxBytes: MAX_ADDRESS_RECORD_BYTES });
  const publicKey = checkPublicKey(items[2], 'publicKey');
  const networkId = checkNetworkId(items[3], 'networkId');
  const servedBy = checkServedBy(items[4], 'servedBy');
  const sequence = checkUnsigned(items[5], 'sequence');
  const expiresAt = checkTimestamp(items[6], 'expiresAt');
  const signature = checkSignature(items[7], 'signature');
  await requireSignature(
    publicKey,
    CONTEXTS.ADDRESS_RECORD,
    unsigned(publicKey, networkId, servedBy, sequence, expiresAt),
    signature,
    'address record signature',
  );
  return {
    version: RECORD_VERSION,
    publicKey,
    networkId,
    servedBy,
    sequence,
    expiresAt,
    signature,
    bytes: new Uint8Array(bytes),
  };
}

/**
 * The total order in which address records of one key supersede each other: higher sequence,
 * then later expiresAt, then the encoded bytes compared lexicographically (so that two different
 * records at the same sequence and expiry still have one winner everywhere). Negative when `a`
 * is older than `b`, zero when they are the same record.
 */
export function compareAddressRecords(
  a: Pick<AddressRecord, 'sequence' | 'expiresAt' | 'bytes'>,
  b: Pick<AddressRecord, 'sequence' | 'expiresAt' | 'bytes'>,
): number {
  if (a.sequence !== b.sequence) return a.sequence < b.sequence ? -1 : 1;
  if (a.expiresAt !== b.expiresAt) return a.expiresAt < b.expiresAt ? -1 : 1;
  return compareBytes(a.bytes, b.bytes);
}

/** The JSON view handed to pages and the UI. */
export function addressRecordToJSON(record: AddressRecord): AddressRecordJSON {
  return {
    publicKey: encodePublicKey(record.publicKey),
    networkId: record.networkId,
    servedBy: record.servedBy.map((entry) => ({ ...entry, multiaddrs: [...entry.multiaddrs] })),
    sequence: record.sequence,
    expiresAt: record.expiresAt,
    signature: toBase64url(record.signature),
    encoded: toBase64url(record.bytes),
  };
}
