/**
 * Which multiaddrs a node listens on, announces, and puts in invites. One function computes
 * invite addresses for both the running node (from its live addresses) and the offline commands
 * (from the data directory), so both print the same invite.
 */
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { MAX_INVITE_BOOTSTRAP_PEERS } from '../net/constants.ts';

/** Own addresses put in an invite; the rest of MAX_INVITE_BOOTSTRAP_PEERS is left for other nodes. */
export const MAX_OWN_INVITE_ADDRESSES = 6;

function ipProtocol(host: string): 'ip4' | 'ip6' | 'dns' {
  const family = isIP(host);
  return family === 4 ? 'ip4' : family === 6 ? 'ip6' : 'dns';
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** The listen multiaddrs of a network node: WebSockets on TCP `port`, WebRTC-direct on UDP `port`. */
export function listenAddresses(host: string, port: number): string[] {
  const ip = ipProtocol(host);
  if (ip === 'dns') throw new TypeError(`listen host must be an IP address, got ${JSON.stringify(host)}`);
  return [`/${ip}/${host}/tcp/${port}/ws`, `/${ip}/${host}/udp/${port}/webrtc-direct`];
}

/**
 * Announce multiaddrs for `announce` hosts (IP addresses or DNS names). WebRTC-direct needs an
 * IP (the browser puts it in an ICE candidate); libp2p adds /certhash to it.
 */
export function announceAddresses(announce: readonly string[], port: number): string[] {
  return announce.flatMap((host) => {
    const ip = ipProtocol(host);
    if (ip === 'dns') return [`/dns/${host}/tcp/${port}/ws`];
    return [`/${ip}/${host}/tcp/${port}/ws`, `/${ip}/${host}/udp/${port}/webrtc-direct`];
  });
}

/** The addresses of this machine a wildcard listener is reachable on (what libp2p expands to). */
export function interfaceHosts(family: 4 | 6 = 4): string[] {
  const hosts: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if ((family === 4 ? entry.family === 'IPv4' : entry.family === 'IPv6') && !entry.address.startsWith('fe80')) {
        hosts.push(entry.address);
      }
    }
  }
  return hosts;
}

/** 0: public, 1: private / CGNAT / ULA, 2: loopback or link-local. Public addresses go first in invites. */
function reach(host: string): number {
  if (host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('169.254.')) return 2;
  if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(host)) return 1;
  if (/^f[cd]/i.test(host)) return 1;
  return 0;
}

/** ws, wss, or TLS-wrapped ws (/tls/ws, /tls/sni/<name>/ws) over TCP. */
const WEBSOCKETS = /\/tcp\/\d+\/(wss?|tls(\/sni\/[^/]+)?\/ws)\//;

function canonical(address: string): string {
  try {
    return multiaddr(address).toString();
  } catch {
    return '';
  }
}

function hostOf(address: string): string {
  return address.split('/')[2] ?? '';
}

/**
 * The node's own invite addresses from candidate multiaddrs (text): only WebSockets and
 * WebRTC-direct ones, each ending in /p2p/<peerId>, public before private before loopback,
 * WebRTC-direct before WebSockets for the same host (browsers dial it without a certificate),
 * at most MAX_OWN_INVITE_ADDRESSES.
 */
export function ownInviteAddresses(candidates: readonly string[], peerId: string): string[] {
  const suffix = `/p2p/${peerId}`;
  const usable = [...new Set(candidates.map((a) => canonical(a.endsWith(suffix) ? a : `${a}${suffix}`)))].filter(
    (a) => (a.includes('/webrtc-direct/certhash/') || WEBSOCKETS.test(a)) && !a.includes('/p2p-circuit'),
  );
  const rank = (a: string) => reach(hostOf(a)) * 2 + (a.includes('/webrtc-direct/') ? 0 : 1);
  return usable
    .map((address, i) => ({ address, i }))
    .sort((a, b) => rank(a.address) - rank(b.address) || a.i - b.i)
    .slice(0, MAX_OWN_INVITE_ADDRESSES)
    .map(({ address }) => address);
}

/**
 * The multiaddrs a stopped node will be reachable on (for invites printed by offline commands):
 * the announce hosts if any, else the listen host, else every interface address when the host is
 * a wildcard.
 */
export function expectedAddresses(input: {
  host: string;
  announce: readonly string[];
  port: number;
  certhash: string;
}): string[] {
  const hosts =
    input.announce.length > 0
      ? input.announce
      : isWildcardHost(input.host)
        ? interfaceHosts(input.host === '::' ? 6 : 4)
        : [input.host];
  return hosts.flatMap((host) => {
    const ip = ipProtocol(host);
    if (ip === 'dns') return [`/dns/${host}/tcp/${input.port}/ws`];
    return [
      `/${ip}/${host}/udp/${input.port}/webrtc-direct/certhash/${input.certhash}`,
      `/${ip}/${host}/tcp/${input.port}/ws`,
    ];
  });
}

/** Own addresses first, then other bootstrap nodes of the network, MAX_INVITE_BOOTSTRAP_PEERS in all. */
export function inviteBootstrap(own: readonly string[], others: readonly string[]): string[] {
  return [...new Set([...own, ...others])].slice(0, MAX_INVITE_BOOTSTRAP_PEERS);
}
