import { MAX_UPDATE_BYTES } from '../feeds/constants.ts';
import { KiB } from '../util/time.ts';

/** Bumped whenever a message shape changes incompatibly. Every envelope carries it. */
export const PROTOCOL_VERSION = 1;

/** Tag on every window.postMessage between the page (MAIN world) and the bridge (ISOLATED). */
export const PAGE_CHANNEL = 'p2pb';

/** runtime.connect port names; privilege is decided from `sender` when a port connects. */
export const PORT_PAGE = 'p2pb-page';
export const PORT_UI = 'p2pb-ui';

/** Limits on what a web page may send, checked by the bridge and again by the background. */
export const MAX_REQUEST_ID_LENGTH = 64;
export const MAX_METHOD_LENGTH = 64;
/** Params of one page request: enough for one feed write (a whole envelope's update, base64url), no more. */
export const MAX_PAGE_MESSAGE_BYTES = Math.ceil((MAX_UPDATE_BYTES * 4) / 3) + 4 * KiB;
/** Requests one page connection may have in flight before it gets LIMIT_EXCEEDED. */
export const MAX_IN_FLIGHT_PER_PAGE = 16;
/** Prompts waiting behind the one on screen, across all origins. */
export const MAX_QUEUED_PROMPTS = 8;
/** Keys one p2p_resolve (or the engine's feed.resolve) may ask for. */
export const MAX_RESOLVE_KEYS = 64;
/** Largest message `p2p_sign` accepts (the prompt must be able to show it). */
export const MAX_SIGN_MESSAGE_BYTES = 16 * KiB;

/** The announce event pages listen for, and the event they dispatch to ask for an announce. */
export const ANNOUNCE_EVENT = 'p2p:announceProvider';
export const REQUEST_ANNOUNCE_EVENT = 'p2p:requestProvider';
