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
