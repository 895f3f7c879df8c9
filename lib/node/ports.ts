/**
 * Port choice. Every network listens on one port number for both WebSockets (TCP) and
 * WebRTC-direct (UDP), chosen once when the network is added and then kept in its file, because
 * invites name it.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { PORT_PICK_ATTEMPTS } from './constants.ts';
import { PortUnavailableError } from './errors.ts';

/**
 * UDP ports a WebRTC-direct listener of this process has listened on. libjuice (under
 * node-datachannel) keeps such a port bound until the process exits, even after the listener
 * stops, so a node restarted in the same process cannot listen on it again.
 */
export const udpPortsUsedInProcess = new Set<number>();

function bindTcp(host: string, port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      resolve({ port: bound, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

function bindUdp(host: string, port: number): Promise<{ close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.unref();
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      resolve({ close: () => new Promise((done) => socket.close(() => done())) });
    });
  });
}

/** True when `port` can be bound on `host` for both TCP and UDP right now. */
export async function isPortFree(host: string, port: number): Promise<boolean> {
  let tcp: Awaited<ReturnType<typeof bindTcp>> | undefined;
  let udp: Awaited<ReturnType<typeof bindUdp>> | undefined;
  try {
    tcp = await bindTcp(host, port);
    udp = await bindUdp(host, port);
    return true;
  } catch {
    return false;
  } finally {
    await tcp?.close();
    await udp?.close();
  }
}

/**
 * A port free for TCP and UDP on `host`: `preferred` when given (or PortUnavailableError), else
 * one the system hands out, skipping `exclude` (ports other networks of the data dir already own).
 */
export async function pickPort(
  host: string,
  options: { preferred?: number; exclude?: ReadonlySet<number> } = {},
): Promise<number> {
  const { preferred, exclude = new Set<number>() } = options;
  if (preferred !== undefined) {
    if (!Number.isSafeInteger(preferred) || preferred < 1 || preferred > 65535) {
      throw new PortUnavailableError(`port ${preferred} is not a port number (1..65535)`);
    }
    if (exclude.has(preferred)) throw new PortUnavailableError(`port ${preferred} is already used by another network here`);
    if (!(await isPortFree(host, preferred))) {
      throw new PortUnavailableError(`port ${preferred} is in use on ${host} (TCP or UDP)`);
    }
    return preferred;
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_PICK_ATTEMPTS; attempt++) {
    let tcp: Awaited<ReturnType<typeof bindTcp>> | undefined;
    try {
      tcp = await bindTcp(host, 0);
      if (exclude.has(tcp.port)) continue;
      const udp = await bindUdp(host, tcp.port).catch((error: unknown) => {
        lastError = error;
        return undefined;
      });
      if (udp === undefined) continue;
      await udp.close();
      return tcp.port;
    } catch (error) {
      lastError = error;
      if ((error as NodeJS.ErrnoException)?.code === 'EADDRNOTAVAIL') break; // not an address of this machine
    } finally {
      await tcp?.close();
    }
  }
  throw new PortUnavailableError(`found no port free for both TCP and UDP on ${host}`, { cause: lastError });
}
