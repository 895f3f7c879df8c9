/**
 * window.p2p for web pages and apps (P2P Browser). Copy this file next to your app for
 * completion; it has no imports. The extension's source of truth is lib/protocol/messages.ts
 * (PageMethods, ProviderEvents); tests/unit/p2p-dts.test.ts checks the two agree.
 *
 * Discover the provider without racing its injection (EIP-6963 pattern):
 *   window.addEventListener('p2p:announceProvider', (e) => start(e.detail.provider));
 *   window.dispatchEvent(new Event('p2p:requestProvider'));
 */
export {};

declare global {
  interface P2pIdentityStatement {
    publicKey: string;
    displayName: string;
    createdAt: number;
    signature: string;
    /** The whole signed record, base64url (docs/records.md). */
    encoded: string;
  }

  interface P2pIdentity {
    /** The identity's public key text (did:key form, "z6Mk…"). */
    publicKey: string;
    statement: P2pIdentityStatement;
  }

  interface P2pSignature {
    signature: string;
    publicKey: string;
    context: string;
    origin: string;
    payload: string;
  }

  interface P2pFeedState {
    author: string;
    name: string;
    /** The last envelope applied (0: nothing yet). */
    seq: number;
    /** Y.encodeStateAsUpdate of the feed's document, base64url. */
    update: string;
  }

  interface P2pFeedUpdate {
    author: string;
    name: string;
    seq: number;
    /** The Yjs update one envelope carried, base64url. */
    update: string;
  }

  /** A declarative sorting function: keys compared in order; `$replies`, `$thread`, `$isReply`, `$trust` are derived. */
  interface P2pSort {
    id: string;
    keys: { field: string; order: 'asc' | 'desc' }[];
  }

  /** One item of an item feed (Y.Map "items"): your fields, plus where it came from. */
  interface P2pItem {
    id: string;
    author: string;
    feed: string;
    ts: number;
    [field: string]: unknown;
  }

  /** Authors a query left out because the person's moderation blocks them. */
  interface P2pHiddenAuthor {
    author: string;
    items: number;
    /** Why, in words ("blocked by list … of curator …"). */
    because: string | null;
  }

  /** What the person's moderation decides about a key, and every reason that applies. */
  interface P2pVerdict {
    key: string;
    decision: 'blocked' | 'allowed' | 'trusted' | 'neutral';
    because: string | null;
    reasons: { kind: string; text: string; list?: string }[];
  }

  interface P2pMethods {
    p2p_requestIdentity: { params?: undefined; result: P2pIdentity };
    p2p_getIdentity: { params?: undefined; result: P2pIdentity | null };
    p2p_sign: { params: { message: string } | { bytes: string }; result: P2pSignature };
    p2p_networks: { params?: undefined; result: { name: string }[] };
    p2p_readFeed: { params: { author?: string; name: string }; result: P2pFeedState };
    p2p_writeFeed: { params: { name: string; update: string }; result: { seq: number } };
    p2p_subscribeFeed: { params: { author: string; name: string }; result: null };
    p2p_unsubscribeFeed: { params: { author: string; name: string }; result: null };
    p2p_putItem: { params: { name: string; id: string; item: Record<string, unknown> }; result: { seq: number } };
    p2p_follow: { params: { author: string }; result: null };
    p2p_unfollow: { params: { author: string }; result: null };
    p2p_following: { params?: undefined; result: string[] };
    /** Public keys (1–64) → their signed identity statements (names) and the feeds of theirs held here; held ones answer at once, the rest are looked up together. */
    p2p_resolve: { params: { keys: string[] }; result: P2pResolvedKey[] };
    p2p_query: { params: { name: string; sort: P2pSort; authors?: string[]; limit?: number }; result: P2pItem[] };
    /** p2p_query kept live: the items now, then `queryUpdate` with all items each time they change. At most 16 per page. */
    p2p_watchQuery: { params: { name: string; sort: P2pSort; authors?: string[]; limit?: number }; result: { id: string; items: P2pItem[] } };
    p2p_unwatchQuery: { params: { id: string }; result: null };
    p2p_hidden: { params: { name: string; authors?: string[] }; result: P2pHiddenAuthor[] };
    p2p_explain: { params: { author: string }; result: P2pVerdict };
    /** Asks the person to show `author` despite their lists (a punch-through they confirm in a prompt). */
    p2p_showAnyway: { params: { author: string }; result: P2pVerdict };
  }

  /** A resolved key: `statement` verified and of that key (null: nobody reachable serves one, or it is blocked). */
  interface P2pResolvedKey {
    publicKey: string;
    statement: P2pIdentityStatement | null;
    feeds: { name: string; seq: number }[];
    blocked: boolean;
  }

  interface P2pEvents {
    identityChanged: P2pIdentity | null;
    feedUpdate: P2pFeedUpdate;
    /** The person's moderation changed (a list, a block, "show anyway"): query again. */
    moderationChanged: { version: number };
    /** A live query's items changed (p2p_watchQuery): all of them, in the sort's order. */
    queryUpdate: { id: string; items: P2pItem[] };
  }

  /** Rejections carry `code`: 4001 refused, 4100 not granted, 4200 unknown method, -32602 bad params, or a named code (STORAGE_FULL…). */
  interface P2pError extends Error {
    code: number | string;
  }

  interface P2pProvider {
    request<M extends keyof P2pMethods>(
      args: P2pMethods[M]['params'] extends undefined ? { method: M; params?: undefined } : { method: M; params: P2pMethods[M]['params'] },
    ): Promise<P2pMethods[M]['result']>;
    on<E extends keyof P2pEvents>(event: E, listener: (data: P2pEvents[E]) => void): P2pProvider;
    off<E extends keyof P2pEvents>(event: E, listener: (data: P2pEvents[E]) => void): P2pProvider;
  }

  interface Window {
    p2p?: P2pProvider;
  }

  interface WindowEventMap {
    'p2p:announceProvider': CustomEvent<{ info: { name: string; uuid?: string; icon?: string; rdns?: string }; provider: P2pProvider }>;
  }
}
