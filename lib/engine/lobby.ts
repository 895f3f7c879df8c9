/**
 * A short-lived libp2p node with no network of its own, used only to ask an always-on node's
 * front door to host a new network (lib/node/host-protocol). A network's own node cannot do it:
 * its Noise prologue is bound to its network.
 */
import { noise } from '@libp2p/noise';
import { isPrivate } from '@libp2p/utils';
import { webRTCDirect } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { WebSockets } from '@multiformats/multiaddr-matcher';
import { createLibp2p } from 'libp2p';
import { requestHostedNetwork, type HostedNetwork, type HostedNetworkRequest } from '../node/host-protocol.ts';

export async function askToHost(
  frontDoor: string,
  request: HostedNetworkRequest,
  options: { allowLocalAddresses: boolean; signal?: AbortSignal },
): Promise<HostedNetwork> {
  const address = multiaddr(frontDoor);
  const lobby = await createLibp2p({
    transports: [webSockets(), webRTCDirect({ rtcConfiguration: { iceServers: [] } })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: options.allowLocalAddresses
      ? { denyDialMultiaddr: async () => false }
      : { denyDialMultiaddr: async (ma) => isPrivate(ma) === true || WebSockets.matches(ma) },
  });
  try {
    return await requestHostedNetwork(lobby, address, request, options.signal ? { signal: options.signal } : {});
  } finally {
    await lobby.stop();
  }
}
