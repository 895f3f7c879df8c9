/**
 * The grant subject of an app: the pseudo-origin `app:<id>`. Only the background decides it,
 * from the URL of the extension page that connected (`app.html?app=<id>`, which the browser
 * reports in `sender`); the app's frame never says who it is.
 */
import { decodePublicKey, encodePublicKey } from '../identity/index.ts';
import { APP_HOST_PATH, APP_ID_PATTERN, APP_ORIGIN_PREFIX } from './constants.ts';

export const appOrigin = (id: string): string => `${APP_ORIGIN_PREFIX}${id}`;

/** The app id of a host page URL (`<extension origin>/app.html?app=<id>`), or null. */
export function appIdFromHostUrl(url: string, extensionOrigin: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  // protocol + host, not URL.origin: for chrome-extension: and moz-extension: URLs some URL
  // implementations (Node's) say 'null'.
  if (`${parsed.protocol}//${parsed.host}` !== extensionOrigin || parsed.pathname !== APP_HOST_PATH) return null;
  const ids = parsed.searchParams.getAll('app');
  if (ids.length !== 1 || !APP_ID_PATTERN.test(ids[0]!)) return null;
  return ids[0]!;
}

/**
 * The author of a published app the host page URL names (`app.html?app=<id>&author=<key>`):
 * null for a built-in app (no author), undefined for a URL that is neither.
 */
export function appAuthorFromHostUrl(url: string, extensionOrigin: string): string | null | undefined {
  if (appIdFromHostUrl(url, extensionOrigin) === null) return undefined;
  const params = new URL(url).searchParams;
  const authors = params.getAll('author');
  if ([...params.keys()].some((k) => k !== 'app' && k !== 'author')) return undefined;
  if (authors.length === 0) return null;
  if (authors.length !== 1) return undefined;
  try {
    return encodePublicKey(decodePublicKey(authors[0]!)) === authors[0] ? authors[0]! : undefined;
  } catch {
    return undefined;
  }
}

/** What the background knows about a connecting port (runtime.MessageSender). */
export interface AppSender {
  id?: string;
  url?: string;
  origin?: string;
  frameId?: number;
  tab?: unknown;
}

/**
 * The grant origin for a port from the app host page, or null to refuse it: the sender must be
 * this extension's own app.html, top-level in a tab (not a frame of some other page), for an app
 * that ships in the extension.
 */
export function appGrantOrigin(
  sender: AppSender,
  extension: { id: string; origin: string },
  isBundled: (id: string) => boolean,
): string | null {
  if (sender.id !== extension.id || !sender.tab || sender.frameId !== 0 || !sender.url) return null;
  if (sender.origin !== undefined && sender.origin !== extension.origin) return null;
  const id = appIdFromHostUrl(sender.url, extension.origin);
  if (id === null) return null;
  // A published app: its author's key is part of its subject, so two authors' apps with one id
  // (or a published app with a built-in app's id) never share a grant. The host page runs it
  // only after the person saw who signed it and what it reads and writes.
  const author = appAuthorFromHostUrl(sender.url, extension.origin);
  if (author === undefined) return null;
  if (author !== null) return `${APP_ORIGIN_PREFIX}${author}/${id}`;
  return isBundled(id) ? appOrigin(id) : null;
}

/** The app a grant subject names: `app:<id>` (built-in) or `app:<author key>/<id>` (published); null for a web origin. */
export function parseAppOrigin(origin: string): { id: string; author: string | null } | null {
  if (!origin.startsWith(APP_ORIGIN_PREFIX)) return null;
  const rest = origin.slice(APP_ORIGIN_PREFIX.length);
  const slash = rest.indexOf('/');
  const id = slash === -1 ? rest : rest.slice(slash + 1);
  if (!APP_ID_PATTERN.test(id)) return null;
  return { id, author: slash === -1 ? null : rest.slice(0, slash) };
}
