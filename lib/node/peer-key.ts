/**
 * A network node's libp2p peer key, as lib/net's createNetworkNode takes it (`peerKey`):
 * an Ed25519 private key in libp2p's protobuf encoding. The same as lib/net's createPeerKey and
 * peerIdOfKey, without loading lib/net's node module (every transport, ~1.3 s), so the offline
 * commands (create, join, list, leave) start quickly.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

export async function createPeerKey(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'));
}

/** The PeerId (text) of a protobuf-encoded peer key. @throws on a key that does not decode */
export function peerIdOfKey(peerKey: Uint8Array): string {
  return peerIdFromPrivateKey(privateKeyFromProtobuf(peerKey)).toString();
}
