/**
 * `npm start`: builds both extensions and opens Chromium with P2P Browser loaded, in a profile
 * kept under .data/ (so your identities survive restarts). Without a display it says how to load
 * the build by hand. The always-on node joins this command when networks land (issue 3).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'wxt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chromeBuild = path.join(root, '.output/chrome-mv3');
const firefoxBuild = path.join(root, '.output/firefox-mv3');
const profile = path.join(root, '.data/chromium-profile');
const CHROMIUM_CANDIDATES = [process.env.P2PB_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

await build({ root });
await build({ root, browser: 'firefox', manifestVersion: 3 });

const chromium = CHROMIUM_CANDIDATES.find((candidate) => candidate && existsSync(candidate));
const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

console.log(`
P2P Browser is built.
  Chrome / Chromium: chrome://extensions → Developer mode → Load unpacked → ${chromeBuild}
  Firefox:           about:debugging#/runtime/this-firefox → Load Temporary Add-on → ${path.join(firefoxBuild, 'manifest.json')}
`);

if (!hasDisplay || !chromium) {
  console.log(hasDisplay ? 'No Chromium found (set P2PB_CHROMIUM): load the build by hand as above.' : 'No display here: load the build by hand in your browser as above.');
  process.exit(0);
}

mkdirSync(profile, { recursive: true });
console.log(`Opening ${chromium} with the extension (profile ${profile}). Close the browser to stop.`);
const child = spawn(
  chromium,
  [`--user-data-dir=${profile}`, `--disable-extensions-except=${chromeBuild}`, `--load-extension=${chromeBuild}`, '--no-first-run', 'chrome://extensions'],
  { stdio: 'inherit' },
);
child.on('exit', (code) => process.exit(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
