/**
 * Apps published as feeds (DESIGN idea 4; docs/apps.md "Published apps").
 *
 * The feed `apps/<id>` of the author's identity holds one package (lib/apps/package.ts) as a
 * Yjs document:
 *
 *   Y.Map "chunks"   "0", "1", … → bytes (≤ APP_PACKAGE_CHUNK_BYTES each, one envelope each)
 *   Y.Map "app"      format 1, id, version (the manifest's), size, sha256 (hex), chunks (count)
 *
 * Publishing writes the chunks first and the header last, each in its own transaction, so a
 * reader who has the header has (unless something is wrong) every chunk it names. The envelopes
 * are signed by the author, so the feed is the signature: who signed the app is the feed's
 * author key. Opening checks everything again and refuses with a named error.
 *
 * Running: the host page writes the verified package into the packaged shell document (a
 * sandbox page, lib/apps/shell.ts) as one HTML document whose own CSP is the app CSP with the
 * exact SHA-256 of each of the package's scripts (renderPublishedDocument).
 */
import * as Y from 'yjs';
import { decodePublicKey, encodePublicKey } from '../identity/index.ts';
import { LINK_SCHEME } from '../net/constants.ts';
import { concatBytes, fromUtf8, toHex, utf8 } from '../util/bytes.ts';
import {
  APP_CSP,
  APP_FRAME_SCRIPT,
  APP_ID_PATTERN,
  APP_MIME_TYPES,
  APP_ORIGIN_PREFIX,
  APP_PACKAGE_CHUNK_BYTES,
  APP_SCRIPT_NONCE,
  MAX_APP_PACKAGE_BYTES,
  PUBLISHED_APP_FEED_PREFIX,
} from './constants.ts';
import {
  AppNotPublishedError,
  AppPackageMismatchError,
  AppPackageTooLargeError,
  InvalidAppLinkError,
  InvalidAppPackageError,
} from './errors.ts';
import type { AppManifest } from './manifest.ts';
import { scanTags } from './html.ts';
import { isValidAppPath, openAppPackage, type AppPackage } from './package.ts';

/** Format of the published feed's header (Y.Map "app", field `format`). */
export const PUBLISHED_APP_FORMAT = 1;
const HEADER_MAP = 'app';
const CHUNKS_MAP = 'chunks';

export const appFeedName = (id: string): string => `${PUBLISHED_APP_FEED_PREFIX}${id}`;

/** The grant subject of a published app: `app:<author key>/<id>` (a built-in app is `app:<id>`). */
export const publishedAppOrigin = (author: string, id: string): string => `${APP_ORIGIN_PREFIX}${author}/${id}`;

/** `web+p2p:app/<author key>/<id>` */
export const appLink = (author: string, id: string): string => `${LINK_SCHEME}app/${author}/${id}`;

/** @throws InvalidAppLinkError */
export function parseAppLink(link: string): { author: string; id: string } {
  const text = typeof link === 'string' ? link.trim() : '';
  if (text.slice(0, LINK_SCHEME.length).toLowerCase() !== LINK_SCHEME) throw new InvalidAppLinkError(`not a ${LINK_SCHEME} link`);
  const match = /^app\/([^/]{1,100})\/([^/]{1,64})$/.exec(text.slice(LINK_SCHEME.length));
  if (!match) throw new InvalidAppLinkError(`expected ${LINK_SCHEME}app/<author key>/<app id>`);
  const [, author, id] = match as unknown as [string, string, string];
  checkAuthorAndId(author, id);
  return { author, id };
}

/** @throws InvalidAppLinkError */
export function checkAuthorAndId(author: string, id: string): void {
  try {
    if (encodePublicKey(decodePublicKey(author)) !== author) throw new Error('not canonical');
  } catch {
    throw new InvalidAppLinkError('the author is not a public key (z6Mk…)');
  }
  if (!APP_ID_PATTERN.test(id)) throw new InvalidAppLinkError(`"${id.slice(0, 64)}" is not an app id`);
}

export interface PublishedAppHeader {
  format: number;
  id: string;
  version: string;
  size: number;
  sha256: string;
  chunks: number;
}

const sha256 = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));

/**
 * The Yjs updates that publish `pkgBytes` (an opened package) into the feed whose current state
 * is `state` (null: a new feed), in the order they must be written: chunks, then the header.
 */
export async function publishUpdates(state: Uint8Array | null, pkg: AppPackage, pkgBytes: Uint8Array): Promise<Uint8Array[]> {
  const doc = new Y.Doc();
  if (state && state.length > 0) Y.applyUpdate(doc, state);
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const chunks = doc.getMap<Uint8Array>(CHUNKS_MAP);
  const count = Math.ceil(pkgBytes.length / APP_PACKAGE_CHUNK_BYTES);
  // Old chunks past the new count go with the first new chunk's transaction.
  for (let i = 0; i < count; i++) {
    doc.transact(() => {
      if (i === 0) for (const key of [...chunks.keys()]) if (Number(key) >= count) chunks.delete(key);
      chunks.set(String(i), pkgBytes.slice(i * APP_PACKAGE_CHUNK_BYTES, (i + 1) * APP_PACKAGE_CHUNK_BYTES));
    });
  }
  const header: PublishedAppHeader = {
    format: PUBLISHED_APP_FORMAT,
    id: pkg.id,
    version: pkg.manifest.version,
    size: pkgBytes.length,
    sha256: toHex(await sha256(pkgBytes)),
    chunks: count,
  };
  doc.transact(() => {
    const map = doc.getMap(HEADER_MAP);
    for (const [key, value] of Object.entries(header)) map.set(key, value);
  });
  doc.destroy();
  return updates;
}

export interface PublishedApp {
  author: string;
  pkg: AppPackage;
  header: PublishedAppHeader;
}

/**
 * Opens the app in a published feed's state (one Yjs update, as feed.read returns it): the
 * header, every chunk, the hash, the package and every rule of the build.
 * @throws AppNotPublishedError, AppPackageMismatchError, AppPackageTooLargeError,
 *   InvalidAppPackageError, InvalidAppManifestError
 */
export async function openPublishedApp(state: Uint8Array, author: string, id: string): Promise<PublishedApp> {
  const doc = new Y.Doc();
  try {
    try {
      Y.applyUpdate(doc, state);
    } catch (cause) {
      throw new InvalidAppPackageError('the feed is not a Yjs document', { cause });
    }
    const raw = doc.getMap(HEADER_MAP).toJSON() as Record<string, unknown>;
    if (Object.keys(raw).length === 0) throw new AppNotPublishedError(author, id);
    const { format, id: headerId, version, size, sha256: digest, chunks } = raw;
    if (format !== PUBLISHED_APP_FORMAT) throw new InvalidAppPackageError(`published app format ${String(format).slice(0, 20)}; this version reads ${PUBLISHED_APP_FORMAT}`);
    if (typeof headerId !== 'string' || typeof version !== 'string' || typeof digest !== 'string' || !Number.isSafeInteger(size) || !Number.isSafeInteger(chunks)) {
      throw new InvalidAppPackageError('the published app header is { format, id, version, size, sha256, chunks }');
    }
    if (headerId !== id) throw new AppPackageMismatchError(`the feed apps/${id} holds app "${headerId.slice(0, 64)}"`);
    if ((size as number) < 0 || (size as number) > MAX_APP_PACKAGE_BYTES) throw new AppPackageTooLargeError(`package of ${size} bytes; at most ${MAX_APP_PACKAGE_BYTES}`);
    if (chunks !== Math.ceil((size as number) / APP_PACKAGE_CHUNK_BYTES)) throw new AppPackageMismatchError(`${chunks} chunks cannot hold ${size} bytes`);
    const map = doc.getMap<unknown>(CHUNKS_MAP);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < (chunks as number); i++) {
      const part = map.get(String(i));
      if (!(part instanceof Uint8Array)) throw new AppPackageMismatchError(`chunk ${i} of ${chunks} is missing (not fully received, or tampered)`);
      total += part.length;
      if (total > (size as number)) throw new AppPackageMismatchError('the chunks are larger than the header says');
      parts.push(part);
    }
    const bytes = concatBytes(...parts);
    if (bytes.length !== size) throw new AppPackageMismatchError(`the chunks hold ${bytes.length} bytes, the header says ${size}`);
    if (toHex(await sha256(bytes)) !== digest) throw new AppPackageMismatchError('the package does not hash to what the signed header says (tampered, or not fully received)');
    const pkg = openAppPackage(bytes);
    if (pkg.id !== id) throw new AppPackageMismatchError(`the package in apps/${id} is app "${pkg.id}"`);
    if (pkg.manifest.version !== version) throw new AppPackageMismatchError(`the header says version ${version.slice(0, 40)}, the manifest ${pkg.manifest.version}`);
    return { author, pkg, header: raw as unknown as PublishedAppHeader };
  } finally {
    doc.destroy();
  }
}

// ---- consent -------------------------------------------------------------------------------

/** What the person agreed to when they opened a published app. */
export interface AppConsent {
  author: string;
  id: string;
  /** The manifest's name when the person agreed (consents stored before it was kept have none). */
  name?: string;
  version: string;
  sha256: string;
  reads: string[];
  writes: string[];
  at: number;
}

/** Feeds in `next` that `agreed` did not cover (a new read, or a new write). */
export function newFeeds(agreed: Pick<AppManifest, 'reads' | 'writes'>, next: Pick<AppManifest, 'reads' | 'writes'>): { reads: string[]; writes: string[] } {
  const readable = new Set([...agreed.reads, ...agreed.writes]);
  const writable = new Set(agreed.writes);
  return { reads: next.reads.filter((f) => !readable.has(f)), writes: next.writes.filter((f) => !writable.has(f)) };
}

/** True when the app may run on `consent` without asking again: same author and id, no feed it did not have. */
export function consentCovers(consent: AppConsent | undefined, app: PublishedApp): boolean {
  if (!consent || consent.author !== app.author || consent.id !== app.pkg.id) return false;
  const grown = newFeeds(consent, app.pkg.manifest);
  return grown.reads.length === 0 && grown.writes.length === 0;
}

export const consentOf = (app: PublishedApp, at: number): AppConsent => ({
  author: app.author,
  id: app.pkg.id,
  name: app.pkg.manifest.name,
  version: app.pkg.manifest.version,
  sha256: app.header.sha256,
  reads: [...app.pkg.manifest.reads],
  writes: [...app.pkg.manifest.writes],
  at,
});

const CONSENT_PREFIX = 'published-app:';
export const consentKey = (author: string, id: string): string => `${CONSENT_PREFIX}${author}/${id}`;

/** The consents among what `browser.storage.local` holds (the published apps the person opened), newest first. */
export function consentsIn(items: Record<string, unknown>): AppConsent[] {
  return Object.entries(items)
    .filter(([key, value]) => key.startsWith(CONSENT_PREFIX) && typeof value === 'object' && value !== null)
    .map(([, value]) => value as AppConsent)
    .filter((c) => typeof c.author === 'string' && typeof c.id === 'string' && Array.isArray(c.reads) && Array.isArray(c.writes))
    .sort((x, y) => (y.at ?? 0) - (x.at ?? 0));
}

// ---- the document the frame runs -----------------------------------------------------------

const ATTR = (name: string) => new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i');
const attr = (tag: string, name: string): string | undefined => {
  const m = ATTR(name).exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
};

/** A package path for a reference in a document or stylesheet at `base`, or null when it names none. */
function resolve(pkg: AppPackage, base: string, ref: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('/') || ref.startsWith('#')) return null;
  const clean = ref.split(/[?#]/)[0]!;
  const parts = base.split('/').slice(0, -1);
  for (const segment of clean.split('/')) {
    if (segment === '.' || segment === '') continue;
    if (segment === '..') parts.pop();
    else parts.push(segment);
  }
  const path = parts.join('/');
  return isValidAppPath(path) && pkg.files.has(path) ? path : null;
}

const mimeOf = (path: string): string => APP_MIME_TYPES[path.slice(path.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
const dataUrl = (path: string, bytes: Uint8Array): string => {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${mimeOf(path)};base64,${btoa(binary)}`;
};

/** A stylesheet with url(…) of package files turned into data: URLs (one linear scan). */
function inlineCss(pkg: AppPackage, path: string, css: string): string {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const open = indexOfUrl(css, at);
    if (open === -1) break;
    const close = css.indexOf(')', open + 4);
    if (close === -1) break;
    const ref = css.slice(open + 4, close).trim().replace(/^(["'])(.*)\1$/s, '$2').trim();
    const target = resolve(pkg, path, ref);
    if (target && target !== path) out.push(css.slice(at, open), `url("${dataUrl(target, pkg.files.get(target)!)}")`);
    else out.push(css.slice(at, close + 1));
    at = close + 1;
  }
  out.push(css.slice(at));
  return out.join('');
}

/** Index of the next `url(` (any case) at or after `from`, or -1. */
function indexOfUrl(css: string, from: number): number {
  const re = /url\(/gi;
  re.lastIndex = from;
  return re.exec(css)?.index ?? -1;
}

/**
 * index.html of a published package as the one document its frame runs, with nothing fetched:
 *
 * - first its own CSP: the app CSP with `script-src 'self'` plus the SHA-256 of each of the
 *   package's scripts the document names (and nothing else), then /app-frame.js (window.p2p);
 * - `<script src="x.js">` of a package file → `<script nonce>` with the file's text;
 * - `<link rel="stylesheet" href="x.css">` → `<style>` (its url(…) of package files as data:);
 * - `src` / `href` / `poster` of other package files → data: URLs.
 *
 * References to the extension's own files (`/vendor-yjs.js`) stay as they are: the CSP allows
 * 'self' exactly as for built-in apps. @throws InvalidAppPackageError for a script that cannot
 * be inlined (it contains `</script` or `<!--`) or a relative reference to a missing file
 */
export async function renderPublishedDocument(pkg: AppPackage): Promise<string> {
  const html = fromUtf8(pkg.files.get('index.html')!);
  const hashes: string[] = [];
  const pending: Promise<void>[] = [];
  const missing = (ref: string) => new InvalidAppPackageError(`index.html names "${ref.slice(0, 80)}", which is not in the package`);
  const relative = (ref: string) => !/^[a-z][a-z0-9+.-]*:/i.test(ref) && !ref.startsWith('/') && !ref.startsWith('#') && ref !== '';

  /** A package script as the inline element that replaces `<script src>…</script>`. */
  const inlineScript = (path: string, tag: string): string => {
    // As the HTML parser will hand it to the CSP check: line breaks normalized to \n.
    const code = fromUtf8(pkg.files.get(path)!).replace(/\r\n?/g, '\n');
    if (/<\/script|<!--|\u0000/i.test(code)) {
      throw new InvalidAppPackageError(`${path} contains "</script" or "<!--" and cannot be inlined into its document; write "<\\/script" in strings`);
    }
    const type = attr(tag, 'type');
    const i = hashes.length;
    hashes.push('');
    pending.push(sha256(utf8(code)).then((d) => void (hashes[i] = `'sha256-${btoa(String.fromCharCode(...d))}'`)));
    return `<script nonce="${APP_SCRIPT_NONCE}"${type ? ` type="${type.replace(/"/g, '')}"` : ''}>${code}</script>`;
  };

  // One pass over the tags (linear: lib/apps/html.ts); the text between them is copied as is,
  // and what is inlined is never scanned again (a script's text must stay what was hashed).
  const out: string[] = [];
  const deferred: string[] = [];
  let copied = 0;
  let skipTo = 0;
  for (const tag of scanTags(html)) {
    if (tag.start < skipTo) continue;
    let replacement: string | null = null;
    let end = tag.end;
    if (tag.name === 'script') {
      const src = attr(tag.text, 'src');
      const path = src === undefined ? null : resolve(pkg, 'index.html', src);
      if (src !== undefined && !path && relative(src)) throw missing(src);
      if (path) {
        const close = /\s*<\/script\s*>/iy;
        close.lastIndex = tag.end;
        if (!close.test(html)) throw new InvalidAppPackageError('index.html: a <script src> must be empty');
        end = close.lastIndex;
        const inline = inlineScript(path, tag.text);
        // An inline script ignores defer and async: a deferred one moves to the end of the
        // document instead, in order (inline module scripts are deferred already).
        if (/\s(?:defer|async)(?=[\s>=/])/i.test(tag.text) && !/^module$/i.test(attr(tag.text, 'type') ?? '')) {
          deferred.push(inline);
          replacement = '';
        } else replacement = inline;
      }
    } else if (tag.name === 'link' && /\srel\s*=\s*["']?stylesheet/i.test(tag.text)) {
      const href = attr(tag.text, 'href');
      const path = href === undefined ? null : resolve(pkg, 'index.html', href);
      if (href !== undefined && !path && relative(href)) throw missing(href);
      if (path) {
        const css = inlineCss(pkg, path, fromUtf8(pkg.files.get(path)!));
        if (/<\/style/i.test(css)) throw new InvalidAppPackageError(`${path} contains "</style" and cannot be inlined`);
        replacement = `<style>${css}</style>`;
      }
    } else if (tag.name !== '' && tag.name !== 'link') {
      // Other elements' references to package files: data: URLs (img-src and media-src allow them).
      const rewritten = tag.text.replace(/(\s(?:src|poster|href)\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi, (whole, lead: string, a?: string, b?: string, c?: string) => {
        const path = resolve(pkg, 'index.html', a ?? b ?? c ?? '');
        if (!path || /\.html?$/i.test(path)) return whole;
        return `${lead}"${dataUrl(path, pkg.files.get(path)!)}"`;
      });
      if (rewritten !== tag.text) replacement = rewritten;
    }
    if (replacement === null) continue;
    out.push(html.slice(copied, tag.start), replacement);
    copied = end;
    skipTo = end;
  }
  out.push(html.slice(copied));
  let body = out.join('');
  if (deferred.length > 0) {
    const close = body.toLowerCase().lastIndexOf('</body');
    body = close === -1 ? body + deferred.join('') : body.slice(0, close) + deferred.join('') + body.slice(close);
  }
  await Promise.all(pending);
  const csp = APP_CSP.replace("script-src 'self'", ['script-src', "'self'", ...new Set(hashes)].join(' '));
  const head = `<meta http-equiv="Content-Security-Policy" content="${csp}">\n<script src="${APP_FRAME_SCRIPT}"></script>\n`;
  const doctype = /^\uFEFF?\s*<!doctype[^>]*>\s*/i.exec(body);
  const at = doctype ? doctype[0].length : 0;
  return `${body.slice(0, at) || '<!doctype html>\n'}${head}${body.slice(at)}`;
}

