/**
 * Every message that crosses a context boundary, in one place (automerge-repo's messages.ts,
 * tldraw's sync-core/protocol.ts). Four channels:
 *
 *   page (MAIN world) ⇄ bridge (ISOLATED content script)   window.postMessage, PageMessage
 *   bridge ⇄ background                                     runtime port PORT_PAGE, PortMessage
 *   popup / prompt / options ⇄ background                   runtime port PORT_UI, PortMessage
 *   background ⇄ engine (offscreen document on Chrome)      runtime.sendMessage, EngineMessage
 *
 * A message body never says who sent it: the background decides the origin and the privilege
 * of a port from `sender` when it connects.
 */
import {
  MAX_METHOD_LENGTH,
  MAX_REQUEST_ID_LENGTH,
  PAGE_CHANNEL,
  PROTOCOL_VERSION,
  MAX_RESOLVE_KEYS,
} from './constants.ts';
import type { WireError } from './errors.ts';

// ---------------------------------------------------------------------------------------------
// Shapes shared by the page API and the UI.

/** A signed identity statement as pages see it (lib/records identityStatementToJSON). */
export interface IdentityStatementJSON {
  publicKey: string;
  displayName: string;
  createdAt: number;
  signature: string;
  /** The whole signed record, base64url: verify it with docs/records.md. */
  encoded: string;
}

/** What a page learns once granted: the identity the person chose for this origin. */
export interface IdentityGrantResult {
  publicKey: string;
  statement: IdentityStatementJSON;
}

export interface SignParamsText {
  /** UTF-8 text to sign; the prompt shows it as text. */
  message: string;
}
export interface SignParamsBytes {
  /** Arbitrary bytes to sign, base64url; the prompt shows them as hex. */
  bytes: string;
}
export type SignParams = SignParamsText | SignParamsBytes;

export interface SignResult {
  /** ed25519 signature over signingBytes(context, payload), base64url (docs/signatures.md). */
  signature: string;
  publicKey: string;
  /** Always 'p2pb/page-sign/v1' for page signatures. */
  context: string;
  /** The origin the browser reported for the page; it is part of what was signed. */
  origin: string;
  /** The exact payload passed to signingBytes: u16be(len(origin)) ‖ origin ‖ message, base64url. */
  payload: string;
}

/** Methods a web page may call through `window.p2p.request`. */
export interface PageMethods {
  p2p_requestIdentity: { params: undefined; result: IdentityGrantResult };
  p2p_getIdentity: { params: undefined; result: IdentityGrantResult | null };
  p2p_sign: { params: SignParams; result: SignResult };
  /** The networks the identity this site sees is in: names only. */
  p2p_networks: { params: undefined; result: { name: string }[] };
  /** A feed's whole state as one Yjs update (author: default the granted identity). */
  p2p_readFeed: { params: { author?: string; name: string }; result: FeedStateView };
  /** Appends a Yjs update to the granted identity's feed `name` (write grant; prompts otherwise). */
  p2p_writeFeed: { params: { name: string; update: string }; result: { seq: number } };
  /** Live `feedUpdate` events for `author`'s feed `name` (the engine follows the author). */
  p2p_subscribeFeed: { params: { author: string; name: string }; result: null };
  p2p_unsubscribeFeed: { params: { author: string; name: string }; result: null };
  /** Follow `author` as the granted identity: their feeds are kept on this drive and pushed live. */
  /** Sets item `id` of the granted identity's item feed `name` (write grant): no Yjs needed in the app. */
  p2p_putItem: { params: { name: string; id: string; item: Record<string, unknown> }; result: { seq: number } };
  p2p_follow: { params: { author: string }; result: null };
  p2p_unfollow: { params: { author: string }; result: null };
  p2p_following: { params: undefined; result: string[] };
  /**
   * Public keys → their signed identity statements (names) and the feeds of theirs held here, in
   * one request of up to 64 keys: held profiles answer at once, the rest are looked up together.
   */
  p2p_resolve: { params: { keys: string[] }; result: ResolvedKeyView[] };
  /** Items of feed `name` from the identity and the authors it follows, ordered by `sort`. */
  p2p_query: { params: { name: string; sort: SortSpecView; authors?: string[]; limit?: number }; result: ItemView[] };
  /**
   * p2p_query kept live: its items now, then a `queryUpdate` event with the items each time
   * they change (a feed of that name grew, follows or moderation changed). At most 16 per page.
   */
  p2p_watchQuery: { params: { name: string; sort: SortSpecView; authors?: string[]; limit?: number }; result: { id: string; items: ItemView[] } };
  p2p_unwatchQuery: { params: { id: string }; result: null };
  /** Authors whose items p2p_query leaves out because the person's moderation blocks them, and why. */
  p2p_hidden: { params: { name: string; authors?: string[] }; result: HiddenAuthorView[] };
  /** Why the person's moderation decides what it does about `author`. */
  p2p_explain: { params: { author: string }; result: VerdictInfo };
  /** Asks the person to let `author` through despite their lists ("show anyway"): a punch-through they confirm. */
  p2p_showAnyway: { params: { author: string }; result: VerdictInfo };
}
export type PageMethod = keyof PageMethods;
export const PAGE_METHODS: readonly PageMethod[] = [
  'p2p_requestIdentity',
  'p2p_getIdentity',
  'p2p_sign',
  'p2p_networks',
  'p2p_readFeed',
  'p2p_writeFeed',
  'p2p_subscribeFeed',
  'p2p_unsubscribeFeed',
  'p2p_putItem',
  'p2p_follow',
  'p2p_unfollow',
  'p2p_following',
  'p2p_resolve',
  'p2p_query',
  'p2p_watchQuery',
  'p2p_unwatchQuery',
  'p2p_hidden',
  'p2p_explain',
  'p2p_showAnyway',
];

/** What a public key resolves to (p2p_resolve): statement verified and of that key, or null. */
export interface ResolvedKeyView {
  publicKey: string;
  statement: IdentityStatementJSON | null;
  feeds: { name: string; seq: number }[];
  blocked: boolean;
}

/** A feed as pages see it: its state as one Yjs update (base64url) and its sequence. */
export interface FeedStateView {
  author: string;
  name: string;
  /** The last envelope applied (0: nothing yet). */
  seq: number;
  /** Y.encodeStateAsUpdate of the feed's document, base64url: apply it to a Y.Doc. */
  update: string;
}

/** A declarative sorting function (lib/data/items.ts): keys compared in order. */
export interface SortSpecView {
  id: string;
  keys: { field: string; order: 'asc' | 'desc' }[];
}

/** One item of a feed used as a list (Y.Map "items"): the author's fields plus where it came from. */
export interface ItemView {
  id: string;
  author: string;
  feed: string;
  ts: number;
  [field: string]: unknown;
}

/** One new envelope of a subscribed feed. */
export interface FeedUpdateEvent {
  author: string;
  name: string;
  seq: number;
  /** The Yjs update it carried, base64url. */
  update: string;
}

/** Events a page may listen to with `window.p2p.on`. */
export interface ProviderEvents {
  /** The identity this origin sees changed; null when the grant was revoked. */
  identityChanged: IdentityGrantResult | null;
  /** A subscribed feed grew. */
  feedUpdate: FeedUpdateEvent;
  /** The person's moderation changed (a list, a block, "show anyway"): query again (live queries already do). */
  moderationChanged: { version: number };
  /** The items of a live query (p2p_watchQuery) changed: all of them, in order. */
  queryUpdate: { id: string; items: ItemView[] };
}
export type ProviderEventName = keyof ProviderEvents;
export const PROVIDER_EVENTS: readonly ProviderEventName[] = ['identityChanged', 'feedUpdate', 'moderationChanged', 'queryUpdate'];

// ---------------------------------------------------------------------------------------------
// page ⇄ bridge (window.postMessage). The page can forge anything here; the bridge accepts only
// exactly this shape and forwards method + params, nothing else.

export interface PageRequestMessage {
  channel: typeof PAGE_CHANNEL;
  v: typeof PROTOCOL_VERSION;
  to: 'bridge';
  id: string;
  method: string;
  params?: unknown;
}

export interface PageResponseMessage {
  channel: typeof PAGE_CHANNEL;
  v: typeof PROTOCOL_VERSION;
  to: 'page';
  id: string;
  result?: unknown;
  error?: WireError;
}

export interface PageEventMessage {
  channel: typeof PAGE_CHANNEL;
  v: typeof PROTOCOL_VERSION;
  to: 'page';
  event: ProviderEventName;
  data: unknown;
}

export type ToPageMessage = PageResponseMessage | PageEventMessage;

// ---------------------------------------------------------------------------------------------
// Port messages (bridge ⇄ background, UI ⇄ background): requests, responses, events.

export interface PortRequest<M extends string = string, P = unknown> {
  v: typeof PROTOCOL_VERSION;
  type: 'request';
  id: string;
  method: M;
  params?: P;
}

export type PortResponse<R = unknown> =
  | { v: typeof PROTOCOL_VERSION; type: 'response'; id: string; result: R }
  | { v: typeof PROTOCOL_VERSION; type: 'response'; id: string; error: WireError };

export interface PortEvent<E extends string = string, D = unknown> {
  v: typeof PROTOCOL_VERSION;
  type: 'event';
  event: E;
  data: D;
}

export type PortMessage = PortRequest | PortResponse | PortEvent;

// ---------------------------------------------------------------------------------------------
// UI (popup, prompt window, options page) ⇄ background. Privileged: only extension pages connect.

export type VaultStatus = 'uninitialized' | 'locked' | 'unlocked';

export interface IdentityView {
  id: string;
  publicKey: string;
  displayName: string;
  createdAt: number;
  /** The signed identity statement, base64url: the engine publishes it in the identity's profile feed. */
  statement?: string;
}

export interface GrantView {
  origin: string;
  identity: string;
  /** May sign without a prompt each time. */
  sign: boolean;
  /** May write to the identity's feeds without a prompt each time. */
  write?: boolean;
  grantedAt: number;
}

export interface EngineStatus {
  running: boolean;
  /** Where the engine runs: the offscreen document (Chrome), background page (Firefox), Node. */
  host: 'offscreen' | 'background' | 'node';
  startedAt: number;
  /** RTCPeerConnection exists where the engine runs (why Chrome needs the offscreen document). */
  webrtc: boolean;
  protocolVersion: number;
  /** Grows each time the person's moderation view changes (pages hear moderationChanged). */
  moderation?: number;
}

/** A joined network as the popup shows it. */
export interface NetworkView {
  id: string;
  name: string;
  /** The identity this network knows the person as (public key text). */
  identity: string;
  closed: boolean;
  /** 'joining' until the first bootstrap peer answers and the address record is published. */
  status: 'joining' | 'online' | 'offline';
  /** Peers connected right now. */
  peers: number;
  /** Always-on nodes the invite named. */
  bootstrap: string[];
  /** The invite link to share (carries the secret for a closed network). */
  invite: string;
  /** This device's PeerId in this network (each network has its own). */
  peerId: string;
  joinedAt: number;
  /** PeerIds of the always-on nodes hosting this identity's feeds in this network. */
  hosts: string[];
}

export interface UiState {
  vault: VaultStatus;
  networks: NetworkView[];
  identities: IdentityView[];
  activeIdentity: string | null;
  grants: GrantView[];
  engine: EngineStatus | null;
  /** The feed store: usage, and "full" when the person's own data did not fit. */
  storage: StorageView | null;
}

export interface StorageView {
  status: 'ok' | 'full' | 'stopped';
  ownBytes: number;
  cachedBytes: number;
  cacheLimitBytes: number;
  ownFeeds: number;
  cachedFeeds: number;
  full: { at: number; neededBytes: number; message: string } | null;
}

/** identity: choose what this site sees; sign: approve a signature; unlock: only unlock the vault. */
export type PromptKind = 'identity' | 'sign' | 'unlock' | 'write' | 'punch-through';

export interface PromptView {
  id: string;
  kind: PromptKind;
  origin: string;
  createdAt: number;
  /** For 'sign': the identity that will sign and what exactly will be signed. */
  identity?: IdentityView;
  message?: { text: string | null; hex: string; bytes: number };
  /** For 'write': the feed written to. */
  feed?: string;
  /** For 'punch-through': the key to let through, and why it is hidden now. */
  subject?: { key: string; because: string | null };
}

// ---- moderation (docs/moderation.md): what the popup, the options page and the link page show

/** A subscription as the UI shows it. */
export interface SubscriptionInfo {
  list: string;
  curator: string;
  feed: string;
  ts: number;
  /** 'pending' until the list was fetched once; 'refused' when it cannot be used (error says why). */
  status: 'ok' | 'pending' | 'refused';
  blocks: number;
  trusts: number;
  skipped: number;
  error: string | null;
}

/** What a list link's page shows before the person subscribes. */
export interface ListPreview {
  list: string;
  curator: string;
  feed: string;
  blocks: number;
  trusts: number;
  skipped: number;
  refused: string | null;
  subscribed: boolean;
  /** Where it came from: this drive, or the PeerId that served it just now. */
  from: string;
}

/** A verdict as it crosses to a UI or a page: reasons in words. */
export interface VerdictInfo {
  key: string;
  decision: 'blocked' | 'allowed' | 'trusted' | 'neutral';
  because: string | null;
  reasons: { kind: string; text: string; list?: string }[];
}

export interface ModerationInfo {
  own: { key: string; kind: 'block' | 'trust'; ts: number; reason?: string }[];
  punchThroughs: { key: string; ts: number; reason?: string }[];
  subscriptions: SubscriptionInfo[];
  published: { list: string; link: string; entries: number }[];
  trustDepth: number;
  /** The compiled view: keys with a decision, and how many of each. */
  stats: { keys: number; blocked: number; allowed: number; trusted: number; webKeys: number; truncated: boolean; trustDepth: number };
}

/** Items a query left out because the person blocks their author (p2p_hidden). */
export interface HiddenAuthorView {
  author: string;
  /** How many of their items the query left out. */
  items: number;
  /** Why, in words ("blocked by list spam of curator z6Mk…"). */
  because: string | null;
}

export type PromptDecision =
  | { approved: false }
  | { approved: true; identity?: string; remember?: boolean };

export interface UiMethods {
  'state.get': { params: undefined; result: UiState };
  'vault.initialize': { params: { passphrase: string; displayName: string }; result: IdentityView };
  'vault.unlock': { params: { passphrase: string }; result: null };
  'vault.lock': { params: undefined; result: null };
  'vault.changePassphrase': { params: { oldPassphrase: string; newPassphrase: string }; result: null };
  'identity.create': { params: { displayName: string }; result: IdentityView };
  'identity.rename': { params: { id: string; displayName: string }; result: IdentityView };
  'identity.delete': { params: { id: string }; result: null };
  'identity.setActive': { params: { id: string }; result: null };
  'grant.setIdentity': { params: { origin: string; id: string }; result: null };
  'grant.setSign': { params: { origin: string; sign: boolean }; result: null };
  'grant.revoke': { params: { origin: string }; result: null };
  'prompt.get': { params: { id: string }; result: PromptView };
  'prompt.resolve': { params: { id: string; decision: PromptDecision }; result: null };
  'backup.export': { params: { passphrase: string }; result: { filename: string; text: string } };
  'backup.import': { params: { text: string; passphrase: string }; result: { added: string[]; skipped: string[] } };
  /** Join from a web+p2p:invite link, appearing as `identity`. */
  'network.join': { params: { link: string; identity: string }; result: NetworkView };
  /** Create a network hosted by the always-on node at `host` (a multiaddr ending in /p2p/<id>). */
  'network.create': { params: { name: string; host: string; identity: string; closed: boolean }; result: NetworkView };
  /** Leave: stops the network's node and forgets its membership; identities and data stay. */
  'network.leave': { params: { id: string }; result: null };
  /** PeerIds this device's node in network `id` knows (its peer store): what the network can see. */
  'network.peers': { params: { id: string }; result: string[] };
  /** Find a person by public key in a network and connect to where they are served. */
  'network.connect': { params: { id: string; publicKey: string }; result: ConnectView };
  /** Have the network's always-on node host this identity's feeds (and list it in the record). */
  'network.delegate': { params: { id: string }; result: NetworkView };
  /** Stop that: the record no longer lists the host; this browser still holds everything. */
  'network.revoke': { params: { id: string; host: string }; result: NetworkView };
  /**
   * Read a feed as `identity` would (fetched from its networks when not held): with who served it.
   * `fresh`: also when held, ask a holder for what is newer first (bounded; else what is held).
   */
  'feed.read': { params: { identity: string; author: string; name: string; fresh?: boolean }; result: FeedStateView & { from: string } };
  /** Keys → their signed statements, as `identity` sees them (p2p_resolve for extension pages: the consent page names a signer). */
  'feed.resolve': { params: { identity: string; keys: string[] }; result: ResolvedKeyView[] };
  /** Write a Yjs update to one of the person's own feeds (publishing an app: lib/apps/published.ts). */
  'feed.write': { params: { identity: string; name: string; update: string }; result: { seq: number } };
  'moderation.state': { params: undefined; result: ModerationInfo };
  /** The person's own entry for `key` ('none' removes it; a new block ends a punch-through). */
  'moderation.set': { params: { key: string; kind: 'block' | 'trust' | 'none'; reason?: string }; result: null };
  'moderation.punch': { params: { key: string; allow: boolean; reason?: string }; result: null };
  'moderation.explain': { params: { key: string }; result: VerdictInfo };
  'moderation.preview': { params: { list: string }; result: ListPreview };
  'moderation.subscribe': { params: { list: string }; result: SubscriptionInfo };
  'moderation.unsubscribe': { params: { list: string }; result: null };
  /** Publish own entries as community list `name` of identity `identity` (its id). */
  'moderation.publish': { params: { identity: string; name: string }; result: { list: string; link: string; entries: number } };
  'moderation.trustDepth': { params: { depth: number }; result: null };
}

export interface ConnectView {
  peerId: string;
  /** False when the connection runs through a relay. */
  direct: boolean;
  /** The transport of the connection, e.g. '/webrtc' for browser to browser. */
  remoteAddr: string;
  /** ms from the lookup to an open connection. */
  elapsed: number;
}
export type UiMethod = keyof UiMethods;

export interface UiEvents {
  /** Sent to every UI port after any change, so open popups stay current. */
  state: UiState;
}

// ---------------------------------------------------------------------------------------------
// background ⇄ engine. On Chrome the engine lives in the offscreen document and these travel by
// runtime.sendMessage with a `target`; on Firefox the engine is in the background page and the
// same methods are plain calls.

export const ENGINE_TARGET = 'p2pb-engine';
export const BACKGROUND_TARGET = 'p2pb-background';

export interface EngineMethods {
  /** Readiness check: answers once the engine has started. */
  'engine.ping': { params: undefined; result: { ready: true } };
  'engine.status': { params: undefined; result: EngineStatus };
  'net.list': { params: undefined; result: NetworkView[] };
  'net.join': { params: { link: string; identity: string }; result: NetworkView };
  'net.create': { params: { name: string; host: string; identity: string; closed: boolean }; result: NetworkView };
  'net.leave': { params: { id: string }; result: null };
  'net.connect': { params: { id: string; publicKey: string }; result: ConnectView };
  'net.peers': { params: { id: string }; result: string[] };
  /** The vault unlocked: networks waiting to sign their address record try again now. */
  'net.retry': { params: undefined; result: null };
  'net.delegate': { params: { id: string }; result: NetworkView };
  'net.revoke': { params: { id: string; host: string }; result: NetworkView };
  'feed.read': { params: { identity: string; author: string; name: string; fresh?: boolean }; result: FeedStateView & { from: string } };
  'feed.write': { params: { identity: string; name: string; update: string }; result: { seq: number } };
  'feed.follow': { params: { identity: string; author: string }; result: null };
  'feed.unfollow': { params: { identity: string; author: string }; result: null };
  'feed.following': { params: { identity: string }; result: string[] };
  'feed.putItem': { params: { identity: string; name: string; id: string; item: Record<string, unknown> }; result: { seq: number } };
  'feed.query': { params: { identity: string; name: string; sort: SortSpecView; authors?: string[]; limit?: number }; result: ItemView[] };
  'feed.resolve': { params: { identity: string; keys: string[] }; result: ResolvedKeyView[] };
  'store.state': { params: undefined; result: StorageView };
  'feed.hidden': { params: { identity: string; name: string; authors?: string[] }; result: HiddenAuthorView[] };
  'mod.state': { params: undefined; result: ModerationInfo };
  /** The person's own entry for `key`; 'none' removes it. */
  'mod.set': { params: { key: string; kind: 'block' | 'trust' | 'none'; reason?: string }; result: null };
  /** Let `key` through whatever lists say (allow), or stop. */
  'mod.punch': { params: { key: string; allow: boolean; reason?: string }; result: null };
  'mod.explain': { params: { key: string }; result: VerdictInfo };
  /** A list link's content (curator, size), fetched from the person's networks when not held. */
  'mod.preview': { params: { list: string }; result: ListPreview };
  'mod.subscribe': { params: { list: string }; result: SubscriptionInfo };
  'mod.unsubscribe': { params: { list: string }; result: null };
  /** Publish the person's own entries as community list `name` of `identity`. */
  'mod.publish': { params: { identity: string; name: string }; result: { list: string; link: string; entries: number } };
  'mod.trustDepth': { params: { depth: number }; result: null };
}
export type EngineMethod = keyof EngineMethods;

/**
 * What other contexts may ask of the background by runtime.sendMessage. The engine may ask for
 * signatures (engine contexts only); a content script may only hand over a clicked link.
 */
export interface BackgroundMethods {
  /** A `web+p2p:` link the person clicked in a page: the background opens the link page. */
  'link.open': { params: { link: string }; result: null };
  /** The offscreen document announces that its engine has started. */
  'engine.ready': { params: undefined; result: null };
  /** The engine's networks changed (status, peers): the background refreshes open popups. */
  'engine.changed': { params: undefined; result: null };
  /** A followed or own feed grew: the background tells the pages subscribed to it. */
  'engine.feed': { params: FeedUpdateEvent & { local: boolean }; result: null };
  'signer.sign': { params: { identity: string; context: string; message: string }; result: { signature: string } };
  'signer.identities': { params: undefined; result: IdentityView[] };
}
export type BackgroundMethod = keyof BackgroundMethods;

export interface TargetedRequest<T extends string> {
  target: T;
  v: typeof PROTOCOL_VERSION;
  id: string;
  method: string;
  params?: unknown;
}

export type TargetedResponse = { ok: true; result: unknown } | { ok: false; error: WireError };

// ---------------------------------------------------------------------------------------------
// Guards. Everything arriving over a channel is `unknown` until one of these says otherwise.

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** True when `x` has every key in `required`, and no key outside required ∪ optional. */
/** A list of keys to resolve: 1 to MAX_RESOLVE_KEYS strings (each is checked as a key by the engine). */
export function isResolveKeys(x: unknown): x is string[] {
  return Array.isArray(x) && x.length > 0 && x.length <= MAX_RESOLVE_KEYS && x.every((k) => typeof k === 'string');
}

export function hasExactKeys(x: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  for (const key of required) if (!(key in x)) return false;
  for (const key of Object.keys(x)) if (!required.includes(key) && !optional.includes(key)) return false;
  return true;
}

const isId = (x: unknown): x is string =>
  typeof x === 'string' && x.length > 0 && x.length <= MAX_REQUEST_ID_LENGTH;
const isMethodName = (x: unknown): x is string =>
  typeof x === 'string' && x.length > 0 && x.length <= MAX_METHOD_LENGTH;

/**
 * A request from the page, exactly: any extra key (an `origin`, a `sender`…) makes it invalid,
 * so a page cannot even try to say who it is.
 */
export function isPageRequestMessage(x: unknown): x is PageRequestMessage {
  return (
    isRecord(x) &&
    hasExactKeys(x, ['channel', 'v', 'to', 'id', 'method'], ['params']) &&
    x.channel === PAGE_CHANNEL &&
    x.v === PROTOCOL_VERSION &&
    x.to === 'bridge' &&
    isId(x.id) &&
    isMethodName(x.method)
  );
}

export function isToPageMessage(x: unknown): x is ToPageMessage {
  if (!isRecord(x) || x.channel !== PAGE_CHANNEL || x.v !== PROTOCOL_VERSION || x.to !== 'page') return false;
  if ('event' in x) return typeof x.event === 'string' && (PROVIDER_EVENTS as readonly string[]).includes(x.event);
  return isId(x.id) && ('result' in x || isWireError(x.error));
}

export function isWireError(x: unknown): x is WireError {
  return isRecord(x) && (typeof x.code === 'number' || typeof x.code === 'string') && typeof x.message === 'string';
}

export function isPortRequest(x: unknown): x is PortRequest {
  return (
    isRecord(x) &&
    hasExactKeys(x, ['v', 'type', 'id', 'method'], ['params']) &&
    x.v === PROTOCOL_VERSION &&
    x.type === 'request' &&
    isId(x.id) &&
    isMethodName(x.method)
  );
}

export function isPortResponse(x: unknown): x is PortResponse {
  return (
    isRecord(x) &&
    x.v === PROTOCOL_VERSION &&
    x.type === 'response' &&
    isId(x.id) &&
    ('result' in x || isWireError(x.error))
  );
}

export function isPortEvent(x: unknown): x is PortEvent {
  return isRecord(x) && x.v === PROTOCOL_VERSION && x.type === 'event' && typeof x.event === 'string';
}

export function isTargetedRequest<T extends string>(x: unknown, target: T): x is TargetedRequest<T> {
  return (
    isRecord(x) &&
    hasExactKeys(x, ['target', 'v', 'id', 'method'], ['params']) &&
    x.target === target &&
    x.v === PROTOCOL_VERSION &&
    isId(x.id) &&
    isMethodName(x.method)
  );
}

export function isPageMethod(x: string): x is PageMethod {
  return (PAGE_METHODS as readonly string[]).includes(x);
}
