/**
 * The grant subject of an app: the pseudo-origin `app:<id>`. Only the background decides it,
 * from the URL of the extension page that connected (`app.html?app=<id>`, which the browser
 * reports in `sender`); the app's frame never says who it is.
 */
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
  return id !== null && isBundled(id) ? appOrigin(id) : null;
}
