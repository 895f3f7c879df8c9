/**
 * The front door: a libp2p node of its own (own persisted PeerId, port and certificate, plain
 * Noise, no DHT) where browsers ask the always-on node to host a network (/p2pb/host/1.0.0).
 * It belongs to no network, so talking to it reveals nothing about the networks the node serves.
 */
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { webRTCDirect } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { createLibp2p } from 'libp2p';
import type { Logger } from '../util/log.ts';
import { INBOUND_CONNECTION_THRESHOLD } from '../net/constants.ts';
import { announceAddresses, listenAddresses, ownInviteAddresses } from './addresses.ts';
import { FRONT_DOOR_MAX_CONNECTIONS, HOST_MAX_INBOUND_STREAMS, HOST_PROTOCOL } from './constants.ts';
import type { FrontDoorEntry } from './data-dir.ts';
import { serveHostStream } from './host-protocol.ts';
import type { HostRequestHandler } from './host-protocol.ts';
import { udpPortsUsedInProcess } from './ports.ts';

export interface FrontDoorInit {
  entry: FrontDoorEntry;
  host: string;
  announce: readonly string[];
  handler: HostRequestHandler;
  log: Logger;
  rtcConfiguration?: Record<string, unknown>;
}

export class FrontDoor {
  readonly peerId: string;
  readonly #init: FrontDoorInit;
  #libp2p: Libp2p | undefined;
  readonly #stopping = new AbortController();

  constructor(init: FrontDoorInit) {
    this.#init = init;
    this.peerId = init.entry.peerId;
  }

  get libp2p(): Libp2p | undefined {
    return this.#libp2p;
  }

  /** Listening multiaddrs, each ending in /p2p/<front door PeerId>, best first. */
  addresses(): string[] {
    const live = this.#libp2p?.getMultiaddrs().map(String) ?? [];
    return ownInviteAddresses(live, this.peerId);
  }

  async start(): Promise<void> {
    if (this.#libp2p !== undefined) return;
    const { entry, log } = this.#init;
    let libp2p: Libp2p;
    try {
      libp2p = await this.#create(true);
    } catch (error) {
      if (!udpPortsUsedInProcess.has(entry.port)) throw error;
      log.warn(`WebRTC-direct cannot listen on UDP ${entry.port} again in this process; WebSockets only until restart`);
      libp2p = await this.#create(false);
    }
    udpPortsUsedInProcess.add(entry.port);
    this.#libp2p = libp2p;
    log.info('front door listening', this.addresses());
  }

  async #create(withWebRTCDirect: boolean): Promise<Libp2p> {
    const { entry, host, announce, log } = this.#init;
    const keep = (address: string) => withWebRTCDirect || !address.includes('/webrtc-direct');
    const announced = announceAddresses(announce, entry.port).filter(keep);
    const libp2p = await createLibp2p({
      start: false,
      privateKey: privateKeyFromProtobuf(entry.peerKey),
      addresses: {
        listen: listenAddresses(host, entry.port).filter(keep),
        ...(announced.length === 0 ? {} : { announce: announced }),
      },
      transports: [
        webSockets(),
        ...(withWebRTCDirect
          ? [
              webRTCDirect({
                certificate: entry.certificate,
                rtcConfiguration: { iceServers: [], ...this.#init.rtcConfiguration } as RTCConfiguration,
              }),
            ]
          : []),
      ],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: {
        maxConnections: FRONT_DOOR_MAX_CONNECTIONS,
        inboundConnectionThreshold: INBOUND_CONNECTION_THRESHOLD,
      },
      services: { identify: identify(), ping: ping() },
    });
    await libp2p.handle(
      HOST_PROTOCOL,
      (stream, connection) => serveHostStream(stream, connection, this.#init.handler, { log, signal: this.#stopping.signal }),
      { maxInboundStreams: HOST_MAX_INBOUND_STREAMS, maxOutboundStreams: HOST_MAX_INBOUND_STREAMS },
    );
    try {
      await libp2p.start();
    } catch (error) {
      await Promise.resolve(libp2p.stop()).catch(() => {});
      throw error;
    }
    return libp2p;
  }

  async stop(): Promise<void> {
    const libp2p = this.#libp2p;
    if (libp2p === undefined) return;
    this.#libp2p = undefined;
    this.#stopping.abort(new Error('the front door is stopping'));
    await libp2p.stop();
  }
}
