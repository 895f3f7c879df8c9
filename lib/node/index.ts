/**
 * The always-on node (`p2pb-node`): relay + bootstrap + DHT server for the networks of a data
 * directory, and the front door where browsers have networks hosted. docs/node.md.
 *
 * Browser code imports only ./host-protocol.ts (the front-door client); the rest is Node.
 */
export * from './constants.ts';
export * from './errors.ts';
export { AlwaysOnNode } from './always-on-node.ts';
export type { AlwaysOnNodeEvents, AlwaysOnNodeInit } from './always-on-node.ts';
export { offlineSummary, summarize } from './summary.ts';
export type { NetworkSummary } from './summary.ts';
export { DataDir, defaultDataDir, writeJsonAtomic } from './data-dir.ts';
export type { AddNetworkInput, FrontDoorEntry, NetworkEntry, NetworkOrigin, NodeSettings } from './data-dir.ts';
export { FrontDoor } from './front-door.ts';
export {
  createNetworkMessage,
  decodeHostRequest,
  decodeHostResponse,
  encodeHostMessage,
  requestHostedNetwork,
  serveHostStream,
} from './host-protocol.ts';
export type { HostRequestHandler, HostedNetwork, HostedNetworkRequest } from './host-protocol.ts';
export { createWebRTCCertificate } from './certificate.ts';
export type { WebRTCCertificate } from './certificate.ts';
export { createLogSink, silentSink } from './log.ts';
export type { LogSink } from './log.ts';
export { main as cliMain, USAGE } from './cli.ts';
