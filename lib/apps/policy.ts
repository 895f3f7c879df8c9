/**
 * What an app may ask of window.p2p beyond what its grant allows: only the feeds its manifest
 * declares. The host page applies this before a request leaves the app's tab, so an app cannot
 * read or write another app's data format even with the same identity (microblog's "posts" are
 * not the hello app's business unless it says so in its manifest, where the person can see it).
 */
import { PAGE_METHODS, ProviderErrorCode, type PageMethod, type WireError } from '../protocol/index.ts';
import { feedAllowed, type AppInfo } from './manifest.ts';

type Access = 'none' | 'read' | 'write';

/**
 * Every page method, classified. A method missing here is refused to apps (policy.test.ts fails
 * first): a new method that names a feed must say whether it reads or writes it.
 */
export const APP_METHOD_ACCESS: Readonly<Record<PageMethod, Access>> = {
  p2p_requestIdentity: 'none',
  p2p_getIdentity: 'none',
  p2p_sign: 'none',
  p2p_networks: 'none',
  p2p_readFeed: 'read',
  p2p_writeFeed: 'write',
  p2p_subscribeFeed: 'read',
  p2p_unsubscribeFeed: 'read',
  p2p_putItem: 'write',
  p2p_follow: 'none',
  p2p_unfollow: 'none',
  p2p_following: 'none',
  p2p_resolve: 'none',
  p2p_query: 'read',
  p2p_watchQuery: 'read',
  p2p_unwatchQuery: 'none',
  p2p_hidden: 'read',
  p2p_explain: 'none',
  p2p_showAnyway: 'none',
};

/** null when the request may go on to the background; otherwise the error the app gets. */
export function checkAppRequest(app: AppInfo, method: string, params: unknown): WireError | null {
  if (!(PAGE_METHODS as readonly string[]).includes(method)) return null; // the background answers 4200
  const access = (APP_METHOD_ACCESS as Record<string, Access | undefined>)[method];
  if (access === undefined) {
    return { code: ProviderErrorCode.UNSUPPORTED_METHOD, message: `${method} is not available to apps yet` };
  }
  if (access === 'none') return null;
  const name = (params as { name?: unknown } | null | undefined)?.name;
  if (typeof name !== 'string') return null; // bad params: the background says INVALID_PARAMS
  const declared = access === 'write' ? app.manifest.writes : [...app.manifest.reads, ...app.manifest.writes];
  if (feedAllowed(declared, name)) return null;
  return {
    code: ProviderErrorCode.UNAUTHORIZED,
    message: `App "${app.id}" does not declare feed "${name.slice(0, 100)}" in its manifest (${access === 'write' ? 'writes' : 'reads'})`,
  };
}
