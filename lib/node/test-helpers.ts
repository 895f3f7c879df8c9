/** Shared by lib/node tests: temporary data directories, event waits, a front-door client node. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { noise } from '@libp2p/noise';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { createLibp2p } from 'libp2p';
import type { Libp2p } from '@libp2p/interface';
import { SECOND } from '../util/time.ts';

export async function tempDir(prefix = 'p2pb-node-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Resolves with the detail of the next `type` event that passes `filter`; rejects after `timeout`. */
export function nextEvent<T>(
  target: EventTarget,
  type: string,
  filter: (detail: T) => boolean = () => true,
  timeout = 10 * SECOND,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`no ${type} event within ${timeout} ms`));
    }, timeout);
    const listener = (event: Event) => {
      const detail = (event as CustomEvent<T>).detail;
      if (!filter(detail)) return;
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(detail);
    };
    target.addEventListener(type, listener);
  });
}

/** What a browser uses to talk to a front door: plain Noise, WebSockets, loopback allowed. */
export function createFrontDoorClient(): Promise<Libp2p> {
  return createLibp2p({
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: async () => false },
  });
}
