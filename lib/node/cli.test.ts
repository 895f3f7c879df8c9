import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeInvite } from '../net/index.ts';
import { SECOND } from '../util/time.ts';
import { main } from './cli.ts';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { openAppPackage } from '../apps/package.ts';
import { tempDir } from './test-helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(root, 'bin/p2pb-node.ts');

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

async function dataDir(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

/** Starts `node bin/p2pb-node.ts …args` (the Node 22 running the tests strips the types). */
function start(args: string[], dir: string) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: root,
    env: { ...process.env, P2PB_NODE_DATA: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const lineWaiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      for (const waiter of [...lineWaiters]) {
        if (waiter.test(line)) {
          lineWaiters.splice(lineWaiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exited>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    exited,
    /** The first stdout line passing `test` (rejects if the process exits first). */
    line(test: (line: string) => boolean): Promise<string> {
      return Promise.race([
        new Promise<string>((resolve) => lineWaiters.push({ test, resolve })),
        exited.then((result) => {
          throw new Error(`p2pb-node exited (${result.code}) before printing the line:\n${result.stdout}\n${result.stderr}`);
        }),
      ]);
    },
  };
}

async function cli(args: string[], dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (chunk: string) => ((stdout += chunk), true) },
    stderr: { write: (chunk: string) => ((stderr += chunk), true) },
    env: { P2PB_NODE_DATA: dir },
  });
  return { code, stdout, stderr };
}

async function runToEnd(args: string[], dir: string): Promise<Exited> {
  return start(args, dir).exited;
}

/** SIGTERM, and how long until the process exited. */
async function terminate(run: ReturnType<typeof start>): Promise<{ exited: Exited; ms: number }> {
  const began = performance.now();
  run.child.kill('SIGTERM');
  const exited = await run.exited;
  return { exited, ms: performance.now() - began };
}

describe('p2pb-node CLI', () => {
  it('create prints an invite that decodes; run serves it and exits 0 on SIGTERM; a restart keeps every address', async () => {
    const dir = await dataDir();
    const created = await runToEnd(['create', 'CLI network', '--host', '127.0.0.1'], dir);
    expect(created.code).toBe(0);
    const link = /invite: (web\+p2p:invite\/\S+)/.exec(created.stdout)?.[1];
    expect(link).toBeDefined();
    const invite = decodeInvite(link!);
    expect(invite.name).toBe('CLI network');
    expect(invite.secret).toBeUndefined();
    expect(invite.bootstrap.some((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && a.includes('/ws/p2p/'))).toBe(true);

    // First run: human-readable output.
    const first = start(['run'], dir);
    await first.line((line) => line.startsWith('Ready.'));
    const { exited: firstExit, ms } = await terminate(first);
    expect(firstExit.code).toBe(0);
    expect(ms).toBeLessThan(5 * SECOND);
    const frontDoorBlock = firstExit.stdout.split('Front door')[1]!.split('\n\n')[0]!;
    const frontDoor = frontDoorBlock.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
    expect(frontDoor.length).toBeGreaterThan(0);
    expect(frontDoor.every((a) => a.startsWith('/ip4/127.0.0.1/') && a.includes('/p2p/'))).toBe(true);
    const listening = [...firstExit.stdout.matchAll(/listen: (\S+)/g)].map((m) => m[1]!);
    expect(listening.some((a) => a.includes('/webrtc-direct/certhash/'))).toBe(true);
    expect(listening.some((a) => a.includes('/ws/'))).toBe(true);
    // The invite the node prints names the network's PeerId and port from the data directory.
    const printed = decodeInvite(/invite: (\S+)/.exec(firstExit.stdout)![1]!);
    expect(printed.networkId).toBe(invite.networkId);
    const port = (a: string) => a.split('/')[4];
    const peer = (a: string) => a.split('/p2p/')[1];
    expect(new Set(printed.bootstrap.map(peer))).toEqual(new Set(invite.bootstrap.map(peer)));
    expect(new Set(printed.bootstrap.map(port))).toEqual(new Set(invite.bootstrap.map(port)));
    expect(firstExit.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  \[p2pb:node\]/m);

    // Second run, in a new process: the same networks, PeerIds, ports and front door.
    const second = start(['run', '--json'], dir);
    const ready = JSON.parse(await second.line((line) => line.includes('"event":"ready"'))) as {
      frontDoor: string[];
      networks: Array<{ id: string; peerId: string; port: number; addresses: string[] }>;
      startMs: number;
    };
    expect(ready.frontDoor).toEqual(frontDoor);
    expect(ready.networks.map((n) => [n.id, n.peerId, n.port])).toEqual([
      [invite.networkId, peer(invite.bootstrap[0]!), Number(port(invite.bootstrap[0]!))],
    ]);
    const ws = (list: readonly string[]) => list.filter((a) => a.includes('/ws/')).sort();
    expect(ws(ready.networks[0]!.addresses)).toEqual(ws(listening));
    const { exited: secondExit } = await terminate(second);
    expect(secondExit.code).toBe(0);
  });

  it('joins, lists and leaves networks; refuses bad input with named errors', async () => {
    // In-process through main(), the function bin/p2pb-node.ts calls (spawning costs ~1 s each).
    const dir = await dataDir();
    const host = await dataDir();
    const made = await cli(['create', 'Elsewhere', '--closed', '--json', '--host', '127.0.0.1', '--data', host], dir);
    const link = (JSON.parse(made.stdout.trim()) as { invite: string }).invite;
    expect(decodeInvite(link).secret).toHaveLength(32);

    const joined = await cli(['join', link, '--json', '--host', '127.0.0.1'], dir);
    expect(joined.code).toBe(0);
    const network = JSON.parse(joined.stdout.trim()) as { id: string; invite: string; closed: boolean };
    expect(network.closed).toBe(true);
    // Our invite names this node first and keeps the node it was joined from.
    expect(decodeInvite(network.invite).bootstrap).toEqual(expect.arrayContaining([...decodeInvite(link).bootstrap]));

    const again = await cli(['join', link], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[NETWORK_EXISTS]');

    const listed = await cli(['list', '--json'], dir);
    expect(listed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([network.id]);

    const left = await cli(['leave', network.id.slice(0, 6)], dir);
    expect(left.code).toBe(0);
    expect((await cli(['list', '--json'], dir)).stdout.trim()).toBe('');
    expect((await cli(['leave', network.id], dir)).stderr).toContain('[NETWORK_NOT_FOUND]');

    const bad = await cli(['join', 'web+p2p:invite/AAAA'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\[(MALFORMED_INVITE|INVALID_INVITE_FIELD)\]/);
    const usage = await cli(['frobnicate'], dir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: p2pb-node');
    expect((await cli(['create'], dir)).code).toBe(2);
    expect((await cli(['--help'], dir)).stdout).toContain('Usage: p2pb-node');
  });

  it('pack-app checks an app folder as the extension will and writes a package that opens', async () => {
    const temp = await tempDir();
    cleanups.push(temp.remove);
    const dir = temp.path;
    const app = path.join(dir, 'my-app');
    await mkdir(path.join(app, 'img'), { recursive: true });
    await writeFile(path.join(app, 'manifest.json'), JSON.stringify({ name: 'Mine', version: '0.2.0', reads: ['posts'], writes: [] }));
    await writeFile(path.join(app, 'index.html'), '<!doctype html><script src="app.js"></script>');
    await writeFile(path.join(app, 'app.js'), 'void 0;');
    await writeFile(path.join(app, '.hidden'), 'not packed');
    const out = path.join(dir, 'mine.p2papp');
    const packed = await cli(['pack-app', app, '--out', out, '--json'], dir);
    expect(packed.code).toBe(0);
    expect(JSON.parse(packed.stdout)).toMatchObject({ event: 'packed', id: 'my-app', version: '0.2.0', files: 3, out });
    expect([...openAppPackage(new Uint8Array(await readFile(out))).files.keys()]).toEqual(['app.js', 'index.html', 'manifest.json']);
    await writeFile(path.join(app, 'index.html'), '<button onclick="go()">go</button>');
    const refused = await cli(['pack-app', app, '--out', out], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[INVALID_APP_MANIFEST]');
  });
});
