/**
 * The rules every app document must pass, built-in (lib/apps/build.ts, at build time) or
 * published (lib/apps/package.ts, when packed and again before it runs): nothing the app CSP
 * would silently block. Browser-safe (no node:*).
 *
 * A published document is untrusted input checked in a privileged page before the person has
 * even agreed to run it, so nothing here may take more than linear time: tags are found by one
 * scan (scanTags), and each rule is a regular expression over one tag, never over the document
 * (a `[^>]*` over the document is quadratic on "<a <a <a …" without a `>`: 480 KB took 48 s).
 */
import { InvalidAppManifestError } from './errors.ts';

export interface HtmlTag {
  /** The tag's text, from `<` to its `>` inclusive. */
  text: string;
  /** Lower-case element name (`script`, `img`…); '' for `</…>`, `<!…>` and other markup. */
  name: string;
  start: number;
  end: number;
}

/**
 * Every tag of `html` in order, in linear time: from each `<` that starts one to the next `>`
 * (a `<` inside a tag belongs to it, as the HTML tokenizer would read `<a <b>`). A `<` with no
 * `>` after it ends the scan (the tokenizer drops it at the end of the input).
 */
export function* scanTags(html: string): Generator<HtmlTag> {
  let at = 0;
  for (;;) {
    const start = html.indexOf('<', at);
    if (start === -1) return;
    const close = html.indexOf('>', start + 1);
    if (close === -1) return;
    const text = html.slice(start, close + 1);
    const name = /^<([a-z][a-z0-9-]*)/i.exec(text)?.[1]?.toLowerCase() ?? '';
    yield { text, name, start, end: close + 1 };
    at = close + 1;
  }
}

const HANDLER = /\son[a-z]+\s*=/i;
const JS_URL = /\b(?:href|src|action|formaction|xlink:href)\s*=[\s"']*javascript:/i;
const SRC = /\ssrc\s*=/i;
/** At a script tag's end: only whitespace, then its end tag. */
const EMPTY_SCRIPT = /\s*<\/script\s*>/iy;

/** True when the `<script>` tag ending at `end` is followed by nothing but its end tag. */
export function scriptIsEmpty(html: string, end: number): boolean {
  EMPTY_SCRIPT.lastIndex = end;
  return EMPTY_SCRIPT.test(html);
}

/** @throws InvalidAppManifestError on an inline <script>, an inline handler or a javascript: URL */
export function checkAppHtml(html: string, where: string): void {
  for (const tag of scanTags(html)) {
    if (tag.name === '') continue;
    if (tag.name === 'script' && (!SRC.test(tag.text) || !scriptIsEmpty(html, tag.end))) {
      throw new InvalidAppManifestError(`${where}: inline <script> never runs in an app (CSP); load a file instead`);
    }
    if (HANDLER.test(tag.text)) throw new InvalidAppManifestError(`${where}: inline event handlers (on…=) never run in an app (CSP); use addEventListener`);
    if (JS_URL.test(tag.text)) throw new InvalidAppManifestError(`${where}: javascript: URLs never run in an app (CSP)`);
  }
}
