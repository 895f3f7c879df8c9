/** What `list`, `run` and the events say about a network: addresses and its invite link. */
import { encodeInvite } from '../net/invite.ts';
import { expectedAddresses, inviteBootstrap, ownInviteAddresses } from './addresses.ts';
import type { NetworkEntry, NodeSettings } from './data-dir.ts';

/** What `list`, `run` and the events say about a network. */
export interface NetworkSummary {
  id: string;
  name: string;
  closed: boolean;
  origin: NetworkEntry['origin'];
  peerId: string;
  port: number;
  running: boolean;
  /** Live listen addresses when running, else the ones it will listen on. */
  addresses: string[];
  /** The web+p2p:invite/… link (carries the secret of a closed network). */
  invite: string;
  connections: number;
}

/** A network's summary from its entry and addresses (shared with the offline commands). */
export function summarize(entry: NetworkEntry, addresses: string[], running: boolean, connections = 0): NetworkSummary {
  const own = ownInviteAddresses([...addresses, ...entry.announce], entry.peerId);
  return {
    id: entry.id,
    name: entry.name,
    closed: entry.secret !== undefined,
    origin: entry.origin,
    peerId: entry.peerId,
    port: entry.port,
    running,
    addresses,
    invite: encodeInvite({
      networkId: entry.id,
      name: entry.name,
      bootstrap: inviteBootstrap(own, entry.bootstrap),
      settings: entry.settings,
      ...(entry.secret === undefined ? {} : { secret: entry.secret }),
    }),
    connections,
  };
}

/** The summary of a network of a data directory no node is serving (offline commands). */
export function offlineSummary(entry: NetworkEntry, settings: NodeSettings): NetworkSummary {
  const addresses = expectedAddresses({
    host: settings.host,
    announce: settings.announce,
    port: entry.port,
    certhash: entry.certificate.certhash,
  }).map((a) => `${a}/p2p/${entry.peerId}`);
  return summarize(entry, addresses, false);
}
