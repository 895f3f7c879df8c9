import path from 'node:path';
import { defineConfig } from 'wxt';
import { APP_FRAME_SANDBOX, APP_SHELL_CSP } from './lib/apps/constants.ts';
import { collectApps, shellFile } from './lib/apps/build.ts';

// Apps (apps/<id>/) ship inside the extension at /apps/<id>/ with the app CSP and the frame
// script put first in each document (lib/apps/build.ts); a bad app stops the build.
const apps = () => collectApps(path.resolve('apps'));

// One source, two browsers: `wxt build` (Chrome MV3) and `wxt build -b firefox --mv3`.
export default defineConfig({
  manifestVersion: 3,
  zip: { excludeSources: ['.data/**', 'artifacts/**', '.ci/**'] },
  hooks: {
    'build:publicAssets': (_wxt, files) => {
      for (const app of apps()) files.push(...(app.files as typeof files));
      files.push(shellFile() as (typeof files)[number]);
    },
  },
  manifest: ({ browser }) => ({
    name: 'P2P Browser',
    description: 'Your identity, your networks, your data: a peer-to-peer browser.',
    permissions: ['storage', ...(browser === 'chrome' ? ['offscreen'] : [])],
    // No other extension and no web page may message us directly: pages go through the bridge.
    externally_connectable: browser === 'chrome' ? { ids: [] } : undefined,
    // Firefox's default MV3 policy adds upgrade-insecure-requests, which turns ws:// into wss://
    // and breaks always-on nodes on a LAN or localhost (npm start). Everything else as default.
    content_security_policy:
      browser === 'firefox'
        ? { extension_pages: "script-src 'self'; object-src 'self'" }
        : // APP_SHELL_CSP is the app CSP plus one fixed nonce for scripts: a published app's
          // document is written into /app-shell.html and names the hash of each of its scripts
          // in its own <meta> policy (lib/apps/published.ts); built-in documents carry the app
          // CSP (script-src 'self') in their <meta> as before, so both policies apply to each.
          { sandbox: `sandbox ${APP_FRAME_SANDBOX}; ${APP_SHELL_CSP}` },
    // Chrome: app documents are sandbox pages (opaque origin, no chrome.* at all; a sandboxed
    // <iframe> alone still gets chrome.runtime and chrome.storage there, measured). Firefox has
    // no such key; its sandboxed <iframe> has no extension APIs (docs/apps.md).
    sandbox: browser === 'chrome' ? { pages: [...apps().flatMap((app) => app.pages), shellFile().relativeDest] } : undefined,
    // Firefox opens web+p2p: links with the extension's link page; Chromium ignores this key
    // (the links content script covers it there).
    protocol_handlers:
      browser === 'firefox' ? [{ protocol: 'web+p2p', name: 'P2P Browser', uriTemplate: '/link.html?link=%s' }] : undefined,
    browser_specific_settings:
      browser === 'firefox'
        ? {
            gecko: {
              id: 'p2p-browser@p2pb.dev',
              strict_min_version: '128.0',
              // Nothing is collected: no telemetry, no server of ours.
              data_collection_permissions: { required: ['none'] },
            },
          }
        : undefined,
  }),
});
