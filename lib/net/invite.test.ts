import { encode, rfc8949EncodeOptions } from 'cborg';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64url, fromHex, toBase64url } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import {
  MAX_INVITE_BOOTSTRAP_PEERS,
  MAX_LINK_LENGTH,
  NET_ERROR_CODES,
  NETWORK_SECRET_BYTES,
  createNetworkId,
  createNetworkSecret,
  decodeInvite,
  dhtProtocol,
  authProtocol,
  encodeInvite,
  isNetworkId,
  networkIdFromBytes,
  networkIdToBytes,
  parseLink,
} from './index.ts';
import type { NetworkInviteInput } from './index.ts';

const HOST = '12D3KooWPT98FXMfDQYavZm66EeVjTqP9Nnehn1gyaydqV8L8BQw';
const NETWORK = 'aaaqeayeaudaocajbifqydiob4';
const BOOTSTRAP = [
  `/dns4/node.example/tcp/443/tls/ws/p2p/${HOST}`,
  `/ip4/198.51.100.7/udp/4001/webrtc-direct/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g/p2p/${HOST}`,
];

function code(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(P2pbError);
    return (error as P2pbError).code;
  }
  throw new Error('expected an error');
}

const invite = (overrides: Partial<NetworkInviteInput> = {}): NetworkInviteInput => ({
  networkId: NETWORK,
  name: 'Book club 📚',
  bootstrap: BOOTSTRAP,
  ...overrides,
});

/** The link for a hand-built payload array (to make links encodeInvite refuses to make). */
const linkOf = (payload: unknown[]) => `web+p2p:invite/${toBase64url(encode(payload, rfc8949EncodeOptions))}`;

describe('network ids', () => {
  it('are 26 characters of lower-case base32 and never repeat', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => createNetworkId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z2-7]{26}$/);
      expect(isNetworkId(id)).toBe(true);
      expect(networkIdFromBytes(networkIdToBytes(id))).toBe(id);
    }
  });

  it('have one text form per 16 bytes', () => {
    expect(networkIdFromBytes(fromHex('000102030405060708090a0b0c0d0e0f'))).toBe(NETWORK);
    expect(networkIdFromBytes(new Uint8Array(16).fill(0xff))).toBe('77777777777777777777777774');
    for (const bad of [NETWORK.toUpperCase(), NETWORK.slice(0, 25) + '5', NETWORK.slice(0, 25), `${NETWORK}a`, '', 42]) {
      expect(isNetworkId(bad), String(bad)).toBe(false);
    }
    expect(code(() => networkIdToBytes('nope'))).toBe('INVALID_NETWORK_ID');
    expect(code(() => networkIdFromBytes(new Uint8Array(15)))).toBe('INVALID_NETWORK_ID');
  });

  it('name the network protocols', () => {
    expect(dhtProtocol(NETWORK)).toBe(`/p2pb/${NETWORK}/kad/1.0.0`);
    expect(authProtocol(NETWORK)).toBe(`/p2pb/${NETWORK}/auth/1.0.0`);
    expect(code(() => dhtProtocol('../../etc'))).toBe('INVALID_NETWORK_ID');
  });
});

describe('invites', () => {
  it('round-trip an open network invite', () => {
    const link = encodeInvite(invite({ settings: { dhtKBucketSize: 12, dhtAlpha: 4 } }));
    expect(link.startsWith('web+p2p:invite/')).toBe(true);
    const decoded = decodeInvite(link);
    expect(decoded).toEqual({
      version: 1,
      networkId: NETWORK,
      name: 'Book club 📚',
      bootstrap: BOOTSTRAP,
      settings: { dhtKBucketSize: 12, dhtAlpha: 4 },
    });
    expect(decoded.secret).toBeUndefined();
    expect(encodeInvite(decoded)).toBe(link);
  });

  it('round-trip a closed network invite with its secret', () => {
    const secret = createNetworkSecret();
    const link = encodeInvite(invite({ secret }));
    const decoded = decodeInvite(link);
    expect(decoded.secret).toEqual(secret);
    expect(decoded.secret!.length).toBe(NETWORK_SECRET_BYTES);
    expect(encodeInvite(decoded)).toBe(link);
  });

  it('encode deterministically: the same invite always gives the same link, whatever the settings order', () => {
    const a = encodeInvite(invite({ settings: { dhtAlpha: 4, dhtKBucketSize: 12 } }));
    const b = encodeInvite(invite({ settings: { dhtKBucketSize: 12, dhtAlpha: 4 } }));
    expect(a).toBe(b);
  });

  it('match this fixed link (docs/invites.md)', () => {
    const link = encodeInvite(invite({ name: 'Book club', bootstrap: [BOOTSTRAP[0]!], settings: { dhtKBucketSize: 20 } }));
    expect(link).toBe(
      'web+p2p:invite/hwFubmV0d29yay1pbnZpdGV4GmFhYXFlYXllYXVkYW9jYWpiaWZxeWRpb2I0aUJvb2sgY2x1YoF4Wi9kbnM0L25vZGUuZXhhbXBsZS90Y3AvNDQzL3Rscy93cy9wMnAvMTJEM0tvb1dQVDk4RlhNZkRRWWF2Wm02NkVlVmpUcVA5Tm5laG4xZ3lheWRxVjhMOEJRd6FuZGh0S0J1Y2tldFNpemUUQA',
    );
  });

  it('accept a pasted link with surrounding whitespace and an upper-case scheme', () => {
    const link = encodeInvite(invite());
    expect(decodeInvite(`  ${link.replace('web+p2p:', 'WEB+P2P:')}\n`).networkId).toBe(NETWORK);
  });

  it('refuse what is not a web+p2p: link with INVALID_LINK', () => {
    for (const bad of ['https://example.com/invite', 'web+p2p:', 'web+p2p:invite', 'web+p2p:/invite/abc', 'web+p2p:Invite/abc']) {
      expect([`INVALID_LINK`, 'UNKNOWN_LINK_KIND']).toContain(code(() => decodeInvite(bad)));
    }
    expect(code(() => decodeInvite('https://example.com/invite'))).toBe('INVALID_LINK');
    expect(code(() => decodeInvite('web+p2p:invite'))).toBe('INVALID_LINK');
  });

  it('refuse unknown link kinds, and other known kinds, with UNKNOWN_LINK_KIND', () => {
    expect(code(() => decodeInvite('web+p2p:wallet/abc'))).toBe('UNKNOWN_LINK_KIND');
    expect(code(() => decodeInvite('web+p2p:profile/abc'))).toBe('UNKNOWN_LINK_KIND');
    expect(parseLink('web+p2p:profile/abc')).toEqual({ kind: 'profile', payload: 'abc' });
    expect(parseLink('web+p2p:app/x/y')).toEqual({ kind: 'app', payload: 'x/y' });
  });

  it('refuse an oversized link with LINK_TOO_LONG before decoding it', () => {
    const long = `web+p2p:invite/${'!'.repeat(MAX_LINK_LENGTH)}`;
    expect(code(() => decodeInvite(long))).toBe('LINK_TOO_LONG');
    // The field limits keep every valid invite well inside the link limit.
    const address = (i: number) => `/dns4/${'n'.repeat(60)}.${'m'.repeat(60)}.${'o'.repeat(40)}${i}.example/tcp/443/tls/ws/p2p/${HOST}`;
    const bootstrap = Array.from({ length: MAX_INVITE_BOOTSTRAP_PEERS }, (_, i) => address(i));
    const biggest = encodeInvite(
      invite({ name: 'é'.repeat(32), bootstrap, secret: createNetworkSecret(), settings: { dhtKBucketSize: 20, dhtAlpha: 3, dhtDisjointPaths: 3 } }),
    );
    expect(biggest.length).toBeLessThan(MAX_LINK_LENGTH);
    expect(decodeInvite(biggest).bootstrap).toHaveLength(MAX_INVITE_BOOTSTRAP_PEERS);
  });

  it('refuse malformed payloads with MALFORMED_INVITE', () => {
    const good = encodeInvite(invite());
    const payload = good.slice('web+p2p:invite/'.length);
    const bytes = fromBase64url(payload);
    const cases = [
      'web+p2p:invite/not base64!',
      'web+p2p:invite/' + payload + '=', // padding
      'web+p2p:invite/' + toBase64url(concatBytes(bytes, Uint8Array.of(0))), // trailing byte
      'web+p2p:invite/' + toBase64url(bytes.subarray(0, bytes.length - 3)), // truncated
      'web+p2p:invite/' + toBase64url(concatBytes(Uint8Array.of(0x9f), bytes.subarray(1), Uint8Array.of(0xff))), // indefinite
      linkOf([1, 'profile', NETWORK, 'x', BOOTSTRAP, new Map(), new Uint8Array(0)]),
      linkOf([1, 'network-invite', NETWORK, 'x', BOOTSTRAP, new Map()]),
      'web+p2p:invite/' + toBase64url(encode({ v: 1 }, rfc8949EncodeOptions)),
    ];
    for (const link of cases) expect(code(() => decodeInvite(link)), link).toBe('MALFORMED_INVITE');
    // A non-canonical base64url: the last character carries bits that are not zero.
    const last = payload.at(-1)!;
    const tweaked = payload.slice(0, -1) + (last === 'A' ? 'B' : String.fromCharCode(last.charCodeAt(0) + 1));
    expect(['MALFORMED_INVITE']).toContain(code(() => decodeInvite(`web+p2p:invite/${tweaked}`)));
  });

  it('refuse another version with UNSUPPORTED_INVITE_VERSION', () => {
    expect(code(() => decodeInvite(linkOf([2, 'network-invite', NETWORK, 'x', BOOTSTRAP, new Map(), new Uint8Array(0), 'more'])))).toBe(
      'UNSUPPORTED_INVITE_VERSION',
    );
    expect(code(() => decodeInvite(linkOf([0])))).toBe('UNSUPPORTED_INVITE_VERSION');
  });

  const badFields: Array<[string, Partial<NetworkInviteInput> | unknown[], string]> = [
    ['a network id that is not one', { networkId: 'NOT-AN-ID' }, 'networkId'],
    ['an empty name', { name: '' }, 'name'],
    ['a name with a bidi override', { name: 'abc\u202Edef' }, 'name'],
    ['a name over 64 bytes', { name: 'x'.repeat(65) }, 'name'],
    ['no bootstrap peer', { bootstrap: [] }, 'bootstrap'],
    ['a bootstrap address without /p2p/', { bootstrap: ['/dns4/node.example/tcp/443/tls/ws'] }, 'bootstrap[0]'],
    ['a bootstrap address that is not a multiaddr', { bootstrap: ['https://node.example'] }, 'bootstrap[0]'],
    ['the same bootstrap address twice', { bootstrap: [BOOTSTRAP[0]!, BOOTSTRAP[0]!] }, 'bootstrap[1]'],
    ['too many bootstrap addresses', { bootstrap: Array.from({ length: MAX_INVITE_BOOTSTRAP_PEERS + 1 }, (_, i) => `/ip4/198.51.100.${i + 1}/tcp/443/tls/ws/p2p/${HOST}`) }, 'bootstrap'],
    ['an unknown setting', { settings: { dhtFanout: 3 } as never }, 'settings'],
    ['a setting out of range', { settings: { dhtKBucketSize: 1000 } }, 'settings.dhtKBucketSize'],
    ['a fractional setting', { settings: { dhtAlpha: 2.5 } }, 'settings.dhtAlpha'],
    ['a secret of the wrong length', { secret: new Uint8Array(16) }, 'secret'],
  ];
  for (const [what, fields, field] of badFields) {
    it(`refuse ${what} with INVALID_INVITE_FIELD naming ${field}, on encode and on decode`, () => {
      let thrown: unknown;
      try {
        encodeInvite(invite(fields as Partial<NetworkInviteInput>));
      } catch (error) {
        thrown = error;
      }
      expect((thrown as P2pbError)?.code).toBe('INVALID_INVITE_FIELD');
      expect((thrown as { field?: string }).field).toBe(field);
    });
  }

  it('refuse bad fields in a decoded payload with INVALID_INVITE_FIELD', () => {
    const base = (patch: Record<number, unknown>) => {
      const items: unknown[] = [1, 'network-invite', NETWORK, 'x', BOOTSTRAP, new Map(), new Uint8Array(0)];
      for (const [i, value] of Object.entries(patch)) items[Number(i)] = value;
      return linkOf(items);
    };
    expect(code(() => decodeInvite(base({ 2: 'AAAA' })))).toBe('INVALID_INVITE_FIELD');
    expect(code(() => decodeInvite(base({ 3: 7 })))).toBe('INVALID_INVITE_FIELD');
    expect(code(() => decodeInvite(base({ 4: 'one' })))).toBe('INVALID_INVITE_FIELD');
    expect(code(() => decodeInvite(base({ 5: new Map([[1, 2]]) })))).toBe('INVALID_INVITE_FIELD');
    expect(code(() => decodeInvite(base({ 5: new Map([['__proto__', 2]]) })))).toBe('INVALID_INVITE_FIELD');
    expect(code(() => decodeInvite(base({ 6: 'secret' })))).toBe('INVALID_INVITE_FIELD');
    expect(code(() => decodeInvite(base({ 6: new Uint8Array(31) })))).toBe('INVALID_INVITE_FIELD');
  });

  it('every invite error code is a named lib/net code', () => {
    for (const c of ['INVALID_LINK', 'UNKNOWN_LINK_KIND', 'LINK_TOO_LONG', 'MALFORMED_INVITE', 'UNSUPPORTED_INVITE_VERSION', 'INVALID_INVITE_FIELD']) {
      expect(NET_ERROR_CODES).toContain(c);
    }
  });
});
