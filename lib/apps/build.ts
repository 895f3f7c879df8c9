/**
 * Build step (Node only; wxt.config.ts calls it): ships every folder of apps/ inside the
 * extension at /apps/<id>/, with two lines put at the top of each HTML document before anything
 * of the app's own: the app CSP as a <meta> and the frame script that defines window.p2p. Stops
 * the build on an app that could not run: a bad manifest, no index.html, inline script.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { APP_CSP, APP_FRAME_SCRIPT, APP_ID_PATTERN, APP_SHELL_CSP, APP_SHELL_PATH, APPS_DIR, MAX_APP_MANIFEST_BYTES } from './constants.ts';
import { InvalidAppManifestError } from './errors.ts';
import { checkAppHtml } from './html.ts';
import { parseAppManifest, type AppManifest } from './manifest.ts';

export interface AppBuildFile {
  /** Path inside the extension, e.g. apps/hello/index.html. */
  relativeDest: string;
  absoluteSrc?: string;
  contents?: string;
}

export interface BuiltApp {
  id: string;
  manifest: AppManifest;
  files: AppBuildFile[];
  /** Every HTML document of the app (Chrome lists them as sandbox pages). */
  pages: string[];
}

/** What the build puts before the app's own markup. */
export const APP_HEAD =
  `<meta http-equiv="Content-Security-Policy" content="${APP_CSP}">\n` + `<script src="${APP_FRAME_SCRIPT}"></script>\n`;

/** The document with APP_HEAD first (after the doctype). @throws InvalidAppManifestError on inline script */
export function injectAppHead(html: string, where: string): string {
  checkAppHtml(html, where);
  const doctype = /^\uFEFF?\s*<!doctype[^>]*>\s*/i.exec(html);
  const at = doctype ? doctype[0].length : 0;
  return `${html.slice(0, at)}${APP_HEAD}${html.slice(at)}`;
}

function walk(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    const rel = base ? `${base}/${name}` : name;
    if (statSync(full).isDirectory()) out.push(...walk(full, rel));
    else out.push(rel);
  }
  return out;
}

/** Every app under `appsRoot` (the repository's apps/), checked and ready to copy. */
export function collectApps(appsRoot: string): BuiltApp[] {
  if (!existsSync(appsRoot)) return [];
  const apps: BuiltApp[] = [];
  for (const id of readdirSync(appsRoot).sort()) {
    const dir = path.join(appsRoot, id);
    if (id.startsWith('.') || !statSync(dir).isDirectory()) continue;
    if (!existsSync(path.join(dir, 'manifest.json'))) continue; // not an app (yet)
    if (!APP_ID_PATTERN.test(id)) throw new InvalidAppManifestError(`apps/${id}: an app folder name is its id (${APP_ID_PATTERN})`);
    const raw = readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    if (raw.length > MAX_APP_MANIFEST_BYTES) throw new InvalidAppManifestError(`apps/${id}/manifest.json: larger than ${MAX_APP_MANIFEST_BYTES} bytes`);
    let manifest: AppManifest;
    try {
      manifest = parseAppManifest(JSON.parse(raw));
    } catch (err) {
      throw new InvalidAppManifestError(`apps/${id}/manifest.json: ${(err as Error).message}`);
    }
    const names = walk(dir);
    if (!names.includes('index.html')) throw new InvalidAppManifestError(`apps/${id}: no index.html`);
    const files: AppBuildFile[] = [];
    const pages: string[] = [];
    for (const name of names) {
      const relativeDest = `${APPS_DIR}/${id}/${name}`;
      const absoluteSrc = path.join(dir, name);
      if (/\.html?$/i.test(name)) {
        files.push({ relativeDest, contents: injectAppHead(readFileSync(absoluteSrc, 'utf8'), relativeDest) });
        pages.push(relativeDest);
      } else {
        files.push({ relativeDest, absoluteSrc });
      }
    }
    apps.push({ id, manifest, files, pages });
  }
  return apps;
}

/**
 * The packaged shell a published app is written into (lib/apps/shell.ts): the app CSP (with the
 * published-script nonce) first, then its loader. A sandbox page on Chrome like every app document.
 */
export function shellFile(): AppBuildFile {
  return {
    relativeDest: APP_SHELL_PATH.slice(1),
    contents:
      '<!doctype html>\n' +
      `<meta http-equiv="Content-Security-Policy" content="${APP_SHELL_CSP}">\n` +
      '<meta charset="utf-8">\n<title>App</title>\n<script src="/app-shell.js"></script>\n',
  };
}
