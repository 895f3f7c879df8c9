/**
 * `npm start`: builds both extensions, starts a local always-on node (in this process, data in
 * .data/node: the same PeerIds, ports and networks every time), creates its "Local network" on
 * the first run, prints the invite link and the front-door address, and opens Chromium with
 * P2P Browser loaded (profile in .data/chromium-profile) when there is a display. Runs until
 * Ctrl-C, which stops the node cleanly (and closes the Chromium it opened).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'wxt';
import { AlwaysOnNode } from '../lib/node/always-on-node.ts';
import { LOCAL_HOST, SHUTDOWN_TIMEOUT } from '../lib/node/constants.ts';
import { createLogSink } from '../lib/node/log.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chromeBuild = path.join(root, '.output/chrome-mv3');
const firefoxBuild = path.join(root, '.output/firefox-mv3');
const profile = path.join(root, '.data/chromium-profile');
const nodeData = path.join(root, '.data/node');
const DEFAULT_NETWORK_NAME = 'Local network';
const CHROMIUM_CANDIDATES = [process.env.P2PB_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

await build({ root });
await build({ root, browser: 'firefox', manifestVersion: 3 });

// The local always-on node: loopback only, open (the popup may create networks on it).
const node = new AlwaysOnNode({
  dataDir: nodeData,
  settings: { host: LOCAL_HOST, announce: [], open: true, privateAddresses: true },
  logSink: createLogSink({ level: process.env.P2PB_LOG === 'debug' ? 'debug' : 'info' }),
});
await node.start();
if ((await node.networks()).length === 0) await node.createNetwork({ name: DEFAULT_NETWORK_NAME });
const networks = await node.networks();

console.log(`
P2P Browser is built.
  Chrome / Chromium: chrome://extensions → Developer mode → Load unpacked → ${chromeBuild}
  Firefox:           about:debugging#/runtime/this-firefox → Load Temporary Add-on → ${path.join(firefoxBuild, 'manifest.json')}

Local always-on node (data in ${nodeData}):
  front door (paste it in the popup to create networks on this node):
${node.frontDoorAddresses().map((address) => `    ${address}`).join('\n')}
${networks.map((network) => `  "${network.name}" (${network.id}): open this invite link in the extension:\n    ${network.invite}`).join('\n')}
`);

let chromiumProcess: ChildProcess | undefined;
const chromium = CHROMIUM_CANDIDATES.find((candidate) => candidate && existsSync(candidate));
const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
if (!hasDisplay || !chromium) {
  console.log(hasDisplay ? 'No Chromium found (set P2PB_CHROMIUM): load the build by hand as above.' : 'No display here: load the build by hand in your browser as above.');
} else {
  mkdirSync(profile, { recursive: true });
  console.log(`Opening ${chromium} with the extension (profile ${profile}).`);
  chromiumProcess = spawn(
    chromium,
    [`--user-data-dir=${profile}`, `--disable-extensions-except=${chromeBuild}`, `--load-extension=${chromeBuild}`, '--no-first-run', 'chrome://extensions'],
    { stdio: 'inherit' },
  );
  chromiumProcess.on('exit', () => {
    chromiumProcess = undefined;
    console.log('Chromium closed; the node keeps running. Ctrl-C stops it.');
  });
}
console.log('The node runs until Ctrl-C.');

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) process.exit(130); // a second Ctrl-C: do not wait
  stopping = true;
  console.log(`\n${signal}: stopping the node…`);
  chromiumProcess?.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`the node did not stop within ${SHUTDOWN_TIMEOUT} ms`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT);
  timer.unref();
  await node.stop();
  clearTimeout(timer);
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));
