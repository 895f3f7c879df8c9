/**
 * The app runtime's fixed values: the port name, the grant subject, the frame's sandbox and its
 * Content Security Policy. One place, because the build (wxt.config.ts), the host page, the
 * background and the tests must agree on every one of them.
 */
import { KiB } from '../util/time.ts';

/** runtime.connect port from the app host page (app.html) to the background. */
export const PORT_APP = 'p2pb-app';

/** Grants for an app are kept under this pseudo-origin: `app:<id>`. No web origin starts so. */
export const APP_ORIGIN_PREFIX = 'app:';

/** The extension page that hosts apps: `app.html?app=<id>`. */
export const APP_HOST_PATH = '/app.html';

/** Where the build puts app `<id>` inside the extension: `/apps/<id>/index.html`. */
export const APPS_DIR = 'apps';

/** An app id is its folder name: lower-case letters, digits and dashes. */
export const APP_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/**
 * The frame's sandbox flags: scripts (the app is JS) and forms (a submit event fires only with
 * allow-forms; the CSP's form-action 'none' still stops any form from going anywhere). No
 * allow-same-origin (the origin stays opaque: no storage, no extension), no popups, no top
 * navigation, no modals.
 */
export const APP_FRAME_SANDBOX = 'allow-scripts allow-forms';

/**
 * The CSP of every app document. Scripts and styles only from the extension's own files, no
 * eval, no inline script; nothing fetched or framed from anywhere (an app reaches the world only
 * through window.p2p); no form submissions, no <base>. Firefox applies no extension CSP to a
 * sandboxed frame at all (measured), so the build puts this policy in a <meta> at the top of each
 * app document; Chrome serves app documents as manifest sandbox pages with it as well.
 */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "media-src 'self' data: blob:",
  "connect-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The script the build loads first in every app document: window.p2p for the frame. */
export const APP_FRAME_SCRIPT = '/app-frame.js';

/** Largest manifest.json the build and the registry accept. */
export const MAX_APP_MANIFEST_BYTES = 16 * KiB;
export const MAX_APP_NAME_LENGTH = 64;
export const MAX_APP_DESCRIPTION_LENGTH = 500;
/** Feed names (or patterns such as `notes.*`) an app may declare. */
export const MAX_APP_FEEDS = 32;
export const MAX_APP_SORTS = 16;

// ---- published apps (lib/apps/package.ts, lib/apps/published.ts) ---------------------------

/** A published app is the feed `apps/<id>` of its author's identity. */
export const PUBLISHED_APP_FEED_PREFIX = 'apps/';
/** Largest app package (every file, plus CBOR framing): checked before anything is decoded. */
export const MAX_APP_PACKAGE_BYTES = 5 * 1024 * KiB;
/** Files one package may hold. */
export const MAX_APP_FILES = 512;
/** Longest path of a file inside a package (`img/logo.png`). */
export const MAX_APP_PATH_LENGTH = 200;
/** A package travels in chunks of at most this size, one envelope each (an envelope is ≤ 1 MiB). */
export const APP_PACKAGE_CHUNK_BYTES = 512 * KiB;
/** The package format version (element 0 of a package). */
export const APP_PACKAGE_VERSION = 1;
/** The packaged shell document a published app is written into (a sandbox page, like built-in app documents). */
export const APP_SHELL_PATH = '/app-shell.html';
/**
 * The nonce every inline script of a published app carries. It is public and fixed, so it is no
 * secret: it only keeps the outer policies (the shell's and Chrome's manifest sandbox policy)
 * from allowing inline event handlers and javascript: URLs, which a nonce never allows. The
 * document's own policy lists the exact SHA-256 of each verified script, and both must agree.
 */
export const APP_SCRIPT_NONCE = 'p2pb-published-app';
/** The CSP of the shell before the published document is written into it (APP_CSP, plus the nonce). */
export const APP_SHELL_CSP = APP_CSP.replace("script-src 'self'", `script-src 'self' 'nonce-${APP_SCRIPT_NONCE}'`);
/** Extensions whose files are inlined as data: URLs when an app document names them; others are application/octet-stream. */
export const APP_MIME_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  woff: 'font/woff',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
  css: 'text/css',
  js: 'text/javascript',
  json: 'application/json',
  txt: 'text/plain',
};
