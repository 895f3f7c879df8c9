/** An in-memory pair of connected ports (the memory twin of runtime.Port) for unit tests. */
import type { PortLike } from './rpc.ts';

export function portPair(): [PortLike, PortLike] {
  const make = () => ({ messages: [] as ((m: unknown) => void)[], disconnects: [] as (() => void)[], open: true });
  const a = make();
  const b = make();
  const side = (self: ReturnType<typeof make>, other: ReturnType<typeof make>): PortLike => ({
    postMessage(message) {
      if (!self.open) throw new Error('Attempting to use a disconnected port object');
      // Structured clone, asynchronously, like the browser.
      const copy = structuredClone(message);
      queueMicrotask(() => {
        if (other.open) for (const listener of other.messages) listener(copy);
      });
    },
    onMessage: (listener) => void self.messages.push(listener),
    onDisconnect: (listener) => void self.disconnects.push(listener),
    disconnect() {
      if (!self.open) return;
      self.open = false;
      other.open = false;
      // Like runtime.Port: only the other side hears about it.
      queueMicrotask(() => other.disconnects.forEach((l) => l()));
    },
  });
  return [side(a, b), side(b, a)];
}
