/**
 * Networks: one libp2p node per joined network, each with its own PeerId and its own Kademlia
 * DHT; network ids; web+p2p: invites; address records in the DHT; closed-network membership.
 * Design: docs/networks.md. Invite format: docs/invites.md.
 */
export {
  ADDRESS_RECORD_KEY_PREFIX,
  ADDRESS_RECORD_NAMESPACE,
  AUTH_TIMEOUT,
  BOOTSTRAP_DIAL_TIMEOUT,
  DEFAULT_ADDRESS_RECORD_TTL,
  DEFAULT_DHT_ALPHA,
  DEFAULT_DHT_K_BUCKET_SIZE,
  INVITE_VERSION,
  LINK_KINDS,
  LINK_SCHEME,
  MAX_ADDRESS_RECORD_LIFETIME,
  MAX_DHT_INBOUND_STREAM_BYTES,
  MAX_INVITE_BOOTSTRAP_PEERS,
  MAX_LINK_LENGTH,
  NETWORK_ID_BYTES,
  NETWORK_ID_TEXT_LENGTH,
  NETWORK_SECRET_BYTES,
  PUBLISH_TIMEOUT,
  RENEW_BEFORE_EXPIRY,
  REPUBLISH_INTERVAL,
  RESOLVE_QUORUM,
  RESOLVE_TIMEOUT,
} from './constants.ts';
export type { LinkKind } from './constants.ts';
export {
  NET_ERROR_CODES,
  DhtMessageTooLargeError,
  ExpiredRecordError,
  InvalidLinkError,
  InvalidNetworkConfigError,
  InvalidNetworkIdError,
  InvalidNetworkSecretError,
  InvalidRecordKeyError,
  InviteFieldError,
  LinkTooLongError,
  MalformedInviteError,
  MembershipRefusedError,
  NodeNotRunningError,
  PeerUnreachableError,
  RecordKeyMismatchError,
  RecordLifetimeTooLongError,
  RecordNotFoundError,
  StaleRecordError,
  UnknownLinkKindError,
  UnsupportedInviteVersionError,
  WrongNetworkError,
} from './errors.ts';
export type { NetErrorCode } from './errors.ts';
export {
  assertNetworkId,
  assertNetworkSecret,
  authProtocol,
  createNetworkId,
  createNetworkSecret,
  dhtProtocol,
  networkProtocol,
  isNetworkId,
  networkIdFromBytes,
  networkIdToBytes,
} from './network-id.ts';
export { decodeInvite, encodeInvite, formatLink, parseLink } from './invite.ts';
export type { EngineSettings, NetworkInvite, NetworkInviteInput, P2pLink } from './invite.ts';
export { addressRecordKey, parseAddressRecordKey, selectAddressRecord } from './dht-records.ts';
export { deriveNetworkKeys } from './membership.ts';
export type { NetworkKeys } from './membership.ts';
export { NetworkNode, createNetworkNode, createPeerKey, peerIdOfKey } from './node.ts';
export type {
  ConnectResult,
  NetworkInfo,
  NetworkNodeConfig,
  NetworkNodeEvents,
  NetworkNodeStatus,
  PublishOptions,
  PublishResult,
  NodeTiming,
  TransportSelection,
} from './node.ts';
