/** The always-on node in e2e tests, started through its CLI (`p2pb-node run`) as an operator would. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from './harness.ts';

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

