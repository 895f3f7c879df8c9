/**
 * The rules every app document must pass, built-in (lib/apps/build.ts, at build time) or
 * published (lib/apps/package.ts, when packed and again before it runs): nothing the app CSP
 * would silently block. Browser-safe (no node:*).
 */
import { InvalidAppManifestError } from './errors.ts';

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>(?!\s*<\/script)/i;
const INLINE_HANDLER = /<[a-z][^>]*\son[a-z]+\s*=/i;
const JS_URL = /\b(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:/i;

/** @throws InvalidAppManifestError on an inline <script>, an inline handler or a javascript: URL */
export function checkAppHtml(html: string, where: string): void {
  if (INLINE_SCRIPT.test(html)) throw new InvalidAppManifestError(`${where}: inline <script> never runs in an app (CSP); load a file instead`);
  if (INLINE_HANDLER.test(html)) throw new InvalidAppManifestError(`${where}: inline event handlers (on…=) never run in an app (CSP); use addEventListener`);
  if (JS_URL.test(html)) throw new InvalidAppManifestError(`${where}: javascript: URLs never run in an app (CSP)`);
}
