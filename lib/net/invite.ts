/**
 * web+p2p: links, and the network invite (docs/invites.md):
 *
 *     web+p2p:invite/<base64url(deterministic CBOR payload)>
 *
 * payload = [1, "network-invite", networkId, name, [bootstrap multiaddr, …], {setting: value}, secret]
 */
import { decodeCanonical, encodeCanonical } from '../util/cbor.ts';
import { fromBase64url, toBase64url } from '../util/bytes.ts';
import { displayNameProblem, multiaddrTextProblem, peerIdTextProblem } from '../records/index.ts';
import {
  INVITE_TYPE,
  INVITE_VERSION,
  LINK_KINDS,
  LINK_SCHEME,
  MAX_DHT_ALPHA,
  MAX_DHT_DISJOINT_PATHS,
  MAX_DHT_K_BUCKET_SIZE,
  MAX_INVITE_BOOTSTRAP_PEERS,
  MAX_LINK_LENGTH,
  MIN_DHT_ALPHA,
  MIN_DHT_DISJOINT_PATHS,
  MIN_DHT_K_BUCKET_SIZE,
  NETWORK_SECRET_BYTES,
} from './constants.ts';
import type { LinkKind } from './constants.ts';
import {
  InvalidLinkError,
  InviteFieldError,
  LinkTooLongError,
  MalformedInviteError,
  UnknownLinkKindError,
  UnsupportedInviteVersionError,
} from './errors.ts';
import { isNetworkId } from './network-id.ts';

/** Engine settings a network's creator fixes for every member. Absent: the engine's default. */
export interface EngineSettings {
  /** Kademlia k: bucket size and replication factor (MIN..MAX_DHT_K_BUCKET_SIZE). */
  dhtKBucketSize?: number;
  /** Kademlia α: queries in flight per lookup (MIN..MAX_DHT_ALPHA). */
  dhtAlpha?: number;
  /** S/Kademlia d: disjoint lookup paths (MIN..MAX_DHT_DISJOINT_PATHS). */
  dhtDisjointPaths?: number;
}

/** The setting names that may appear in an invite, with their allowed ranges. */
const SETTING_RANGES: Record<keyof EngineSettings, [number, number]> = {
  dhtAlpha: [MIN_DHT_ALPHA, MAX_DHT_ALPHA],
  dhtDisjointPaths: [MIN_DHT_DISJOINT_PATHS, MAX_DHT_DISJOINT_PATHS],
  dhtKBucketSize: [MIN_DHT_K_BUCKET_SIZE, MAX_DHT_K_BUCKET_SIZE],
};

/** What an invite says: enough to join the network. */
export interface NetworkInvite {
  readonly version: typeof INVITE_VERSION;
  readonly networkId: string;
  /** The network's name as its creator gave it (display-name rules: 1..64 bytes, NFC, no controls). */
  readonly name: string;
  /** Always-on nodes to connect to first, each a multiaddr ending in /p2p/<peerId>. */
  readonly bootstrap: readonly string[];
  readonly settings: Readonly<EngineSettings>;
  /** Present for a closed network: the 32-byte secret a peer must prove it holds. */
  readonly secret?: Uint8Array;
}

export interface NetworkInviteInput {
  networkId: string;
  name: string;
  bootstrap: readonly string[];
  settings?: EngineSettings;
  secret?: Uint8Array;
}

/** A web+p2p: link split into its kind and its payload (not yet decoded). */
export interface P2pLink {
  readonly kind: LinkKind;
  readonly payload: string;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const LINK_SHAPE = /^([a-z][a-z0-9-]*)\/(.*)$/s;

/**
 * Splits a web+p2p: link. The scheme is matched case-insensitively (URL schemes are) and
 * surrounding whitespace is ignored (pasted links); everything else is exact.
 * @throws LinkTooLongError, InvalidLinkError, UnknownLinkKindError
 */
export function parseLink(link: string): P2pLink {
  if (typeof link !== 'string') throw new InvalidLinkError('a link is a string');
  if (link.length > MAX_LINK_LENGTH) throw new LinkTooLongError(link.length, MAX_LINK_LENGTH);
  const text = link.trim();
  if (text.slice(0, LINK_SCHEME.length).toLowerCase() !== LINK_SCHEME) {
    throw new InvalidLinkError(`not a ${LINK_SCHEME} link`);
  }
  const match = LINK_SHAPE.exec(text.slice(LINK_SCHEME.length));
  if (match === null) throw new InvalidLinkError(`expected ${LINK_SCHEME}<kind>/<payload>`);
  const kind = match[1]!;
  if (!(LINK_KINDS as readonly string[]).includes(kind)) throw new UnknownLinkKindError(kind);
  return { kind: kind as LinkKind, payload: match[2]! };
}

/** Builds a web+p2p: link of `kind` around an already encoded payload. */
export function formatLink(kind: LinkKind, payload: string): string {
  if (!(LINK_KINDS as readonly string[]).includes(kind)) throw new UnknownLinkKindError(String(kind));
  return `${LINK_SCHEME}${kind}/${payload}`;
}

// ---------------------------------------------------------------------------------------------

function checkName(value: unknown): string {
  const problem = displayNameProblem(value);
  if (problem !== null) throw new InviteFieldError('name', problem);
  return value as string;
}

function checkBootstrap(value: unknown): string[] {
  if (!Array.isArray(value)) throw new InviteFieldError('bootstrap', 'expected an array of multiaddrs');
  if (value.length === 0 || value.length > MAX_INVITE_BOOTSTRAP_PEERS) {
    throw new InviteFieldError('bootstrap', `expected 1..${MAX_INVITE_BOOTSTRAP_PEERS} multiaddrs, got ${value.length}`);
  }
  const seen = new Set<string>();
  return value.map((address: unknown, i) => {
    const field = `bootstrap[${i}]`;
    const problem = multiaddrTextProblem(address);
    if (problem !== null) throw new InviteFieldError(field, problem);
    const text = address as string;
    const at = text.lastIndexOf('/p2p/');
    const peerId = at === -1 ? '' : text.slice(at + '/p2p/'.length);
    if (at === -1 || peerId.includes('/') || peerIdTextProblem(peerId) !== null) {
      throw new InviteFieldError(field, 'must end in /p2p/<peerId>');
    }
    if (seen.has(text)) throw new InviteFieldError(field, 'listed twice');
    seen.add(text);
    return text;
  });
}

function checkSettings(value: unknown): EngineSettings {
  const entries: Array<[unknown, unknown]> =
    value instanceof Map
      ? [...value.entries()]
      : typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
        ? Object.entries(value)
        : (() => {
            throw new InviteFieldError('settings', 'expected a map of setting names to unsigned integers');
          })();
  const settings: EngineSettings = {};
  for (const [name, setting] of entries) {
    if (setting === undefined) continue; // { dhtAlpha: undefined } from a caller means "default"
    if (typeof name !== 'string' || !Object.hasOwn(SETTING_RANGES, name)) {
      throw new InviteFieldError('settings', `unknown setting ${JSON.stringify(String(name).slice(0, 32))}`);
    }
    const [min, max] = SETTING_RANGES[name as keyof EngineSettings];
    if (typeof setting !== 'number' || !Number.isSafeInteger(setting) || setting < min || setting > max) {
      throw new InviteFieldError(`settings.${name}`, `expected an integer in ${min}..${max}`);
    }
    settings[name as keyof EngineSettings] = setting;
  }
  return settings;
}

function checkSecret(value: unknown): Uint8Array | undefined {
  if (!(value instanceof Uint8Array)) throw new InviteFieldError('secret', 'expected a byte string');
  if (value.length === 0) return undefined;
  if (value.length !== NETWORK_SECRET_BYTES) {
    throw new InviteFieldError('secret', `expected 0 (open network) or ${NETWORK_SECRET_BYTES} bytes, got ${value.length}`);
  }
  return new Uint8Array(value); // a copy even when cborg hands a Node Buffer (its slice() is a view)
}

/** Settings as a Map in name order (the deterministic encoder sorts them again anyway). */
function settingsMap(settings: EngineSettings): Map<string, number> {
  return new Map(
    Object.entries(settings)
      .filter((entry): entry is [string, number] => entry[1] !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/**
 * Encodes an invite as a web+p2p:invite/… link. The same input always gives the same link.
 * @throws InvalidNetworkIdError-style InviteFieldError for any bad field, LinkTooLongError when
 * the result would be longer than MAX_LINK_LENGTH.
 */
export function encodeInvite(input: NetworkInviteInput): string {
  if (!isNetworkId(input.networkId)) throw new InviteFieldError('networkId', 'not a network id');
  const name = checkName(input.name);
  const bootstrap = checkBootstrap(input.bootstrap);
  const settings = checkSettings(input.settings ?? {});
  const secret = input.secret === undefined ? new Uint8Array(0) : input.secret;
  if (checkSecret(secret) === undefined && input.secret !== undefined) {
    throw new InviteFieldError('secret', `a closed network's secret is ${NETWORK_SECRET_BYTES} bytes`);
  }
  const payload = encodeCanonical([INVITE_VERSION, INVITE_TYPE, input.networkId, name, bootstrap, settingsMap(settings), secret]);
  const link = formatLink('invite', toBase64url(payload));
  if (link.length > MAX_LINK_LENGTH) throw new LinkTooLongError(link.length, MAX_LINK_LENGTH);
  return link;
}

/**
 * Decodes and checks a web+p2p:invite/… link.
 * @throws LinkTooLongError, InvalidLinkError, UnknownLinkKindError (not an invite link),
 * MalformedInviteError, UnsupportedInviteVersionError, InviteFieldError
 */
export function decodeInvite(link: string): NetworkInvite {
  const parsed = parseLink(link);
  if (parsed.kind !== 'invite') {
    throw new UnknownLinkKindError(parsed.kind, `expected an invite link, got a ${parsed.kind} link`);
  }
  if (!BASE64URL.test(parsed.payload)) {
    throw new MalformedInviteError('invite payload is not base64url (RFC 4648 §5, no padding)');
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(parsed.payload);
  } catch (cause) {
    throw new MalformedInviteError('invite payload is not valid base64url', { cause });
  }
  if (toBase64url(bytes) !== parsed.payload) {
    throw new MalformedInviteError('invite payload is not canonical base64url');
  }
  let value: unknown;
  try {
    // Maps decode as Map, so settings keys stay data and never touch an object's prototype.
    value = decodeCanonical(bytes, { useMaps: true });
  } catch (cause) {
    throw new MalformedInviteError(`invite payload ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(value)) throw new MalformedInviteError('invite payload is not a CBOR array');

  const [version, type, networkId, name, bootstrap, settings, secret] = value as unknown[];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new MalformedInviteError('invite version is not an unsigned integer');
  }
  if (version !== INVITE_VERSION) throw new UnsupportedInviteVersionError(version);
  if (type !== INVITE_TYPE) throw new MalformedInviteError(`expected a ${JSON.stringify(INVITE_TYPE)} payload`);
  if (value.length !== 7) throw new MalformedInviteError(`a version 1 invite has 7 elements, got ${value.length}`);
  if (!isNetworkId(networkId)) throw new InviteFieldError('networkId', 'not a network id');
  const invite: NetworkInvite = {
    version: INVITE_VERSION,
    networkId,
    name: checkName(name),
    bootstrap: checkBootstrap(bootstrap),
    settings: checkSettings(settings),
  };
  const closedSecret = checkSecret(secret);
  return closedSecret === undefined ? invite : { ...invite, secret: closedSecret };
}
