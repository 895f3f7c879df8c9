/** The always-on node in e2e tests, started through its CLI (`p2pb-node run`) as an operator would. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { createFirstIdentity, openPopup, uiRequest } from './flows.ts';
import { REPO_ROOT, launchBrowser, type BrowserKind } from './harness.ts';

export /** The always-on node, started through its CLI (`p2pb-node run`), as an operator would. */
async function startNodeCli(): Promise<{ frontDoor: string; stop: () => Promise<void> }> {
  const data = await mkdtemp(path.join(tmpdir(), 'p2pb-e2e-node-'));
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/p2pb-node.ts'), 'run', '--data', data, '--host', '127.0.0.1', '--open', '--private-addresses', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<{ frontDoor: string[] }>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (const line of buffer.split('\n').slice(0, -1)) if (line.includes('"event":"ready"')) resolve(JSON.parse(line));
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    void exited.then((code) => reject(new Error(`p2pb-node exited (${code}) before it was ready:\n${stderr}`)));
  });
  const frontDoor = ready.frontDoor.find((a) => a.includes('/ws/'));
  if (!frontDoor) throw new Error(`no WebSocket front door in ${ready.frontDoor.join(', ')}`);
  return {
    frontDoor,
    async stop() {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await rm(data, { recursive: true, force: true });
    },
  };
}


/**
 * The start of every two-browser story: the always-on node through its CLI; browser A creates a
 * closed network on it as Alice; browser B joins it from the invite as Bob (asserted online).
 * Everything started is closed by `cleanup` (run in reverse).
 */
export async function twoPeopleInANetwork(name: string, kinds: [BrowserKind, BrowserKind], cleanup: (() => Promise<unknown>)[]) {
  const node = await startNodeCli();
  cleanup.push(() => node.stop());
  const a = await launchBrowser(kinds[0]);
  cleanup.push(() => a.close());
  const popupA = await openPopup(a);
  const alice = await createFirstIdentity(popupA, 'Alice');
  const network = await uiRequest(popupA, 'network.create', { name, host: node.frontDoor, identity: alice, closed: true });
  const b = await launchBrowser(kinds[1]);
  cleanup.push(() => b.close());
  const popupB = await openPopup(b);
  const bob = await createFirstIdentity(popupB, 'Bob');
  const networkB = await uiRequest(popupB, 'network.join', { link: network.invite, identity: bob });
  expect(networkB.status).toBe('online');
  return { node, a, popupA, alice, network, b, popupB, bob, networkB };
}
