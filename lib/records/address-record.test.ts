import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toBase64url, toHex } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { CONTEXTS, encodePublicKey, sign, signingBytes, verify } from '../identity/index.ts';
import { encodeRecord } from './codec.ts';
import type { RecordValue } from './codec.ts';
import {
  MAX_ADDRESS_RECORD_BYTES,
  MAX_ADDRESSES_PER_ENTRY,
  MAX_SERVED_BY_ENTRIES,
  RECORD_ERROR_CODES,
  addressRecordToJSON,
  compareAddressRecords,
  createAddressRecord,
  decodeAddressRecord,
  decodeIdentityStatement,
} from './index.ts';
import type { ServedBy } from './index.ts';
import vectors from './test-vectors.json' with { type: 'json' };
import { caught, expectCode } from '../util/test-errors.ts';

const seedOf = (name: string) => fromHex(vectors.keys.find((k) => k.name === name)!.seed);
const publicKeyOf = (name: string) => fromHex(vectors.keys.find((k) => k.name === name)!.publicKey);
const peerIdOf = (name: string) => vectors.peers.find((p) => p.name === name)!.peerId;
const ALICE = seedOf('alice');
const BOB = seedOf('bob');
const DEVICE = peerIdOf('device');
const HOST = peerIdOf('host');
const NETWORK = vectors.addressRecords[0]!.networkId;
const first = vectors.addressRecords[0]!;


const device = (multiaddrs: string[] = ['/ip4/198.51.100.7/tcp/443/wss']): ServedBy => ({
  kind: 'device',
  peerId: DEVICE,
  multiaddrs,
});

const input = (overrides: Record<string, unknown> = {}) =>
  ({ secretKey: ALICE, networkId: NETWORK, servedBy: [device()], sequence: 1, expiresAt: 1767312000000, ...overrides }) as Parameters<
    typeof createAddressRecord
  >[0];

/** Signs arbitrary wire fields as alice would (to build records create refuses to make). */
async function craft(fields: RecordValue[], seed = ALICE): Promise<Uint8Array> {
  const unsigned = encodeRecord(fields);
  return encodeRecord([...fields, await sign(seed, CONTEXTS.ADDRESS_RECORD, unsigned)]);
}

const wire = (servedBy: unknown, overrides: { networkId?: unknown; sequence?: unknown } = {}): RecordValue[] => [
  1,
  'address-record',
  publicKeyOf('alice'),
  (overrides.networkId ?? NETWORK) as RecordValue,
  servedBy as RecordValue,
  (overrides.sequence ?? 1) as RecordValue,
  1767312000000,
];

describe('address record test vectors', () => {
  it('the peer seeds give the listed PeerIds', async () => {
    const { generateKeyPairFromSeed } = await import('@libp2p/crypto/keys');
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
    for (const peer of vectors.peers) {
      const key = await generateKeyPairFromSeed('Ed25519', fromHex(peer.seed));
      expect(peerIdFromPrivateKey(key).toString()).toBe(peer.peerId);
    }
  });

  it('createAddressRecord reproduces every vector byte for byte', async () => {
    for (const v of vectors.addressRecords) {
      const bytes = await createAddressRecord({
        secretKey: seedOf(v.key),
        networkId: v.networkId,
        servedBy: v.servedBy as ServedBy[],
        sequence: v.sequence,
        expiresAt: v.expiresAt,
      });
      expect(toHex(bytes)).toBe(v.encoded);
      const servedBy = v.servedBy.map((e) => [e.kind, e.peerId, e.multiaddrs]) as unknown as RecordValue;
      const unsigned = encodeRecord([1, 'address-record', publicKeyOf(v.key), v.networkId, servedBy, v.sequence, v.expiresAt]);
      expect(toHex(unsigned)).toBe(v.unsigned);
      expect(toHex(signingBytes(CONTEXTS.ADDRESS_RECORD, unsigned))).toBe(v.signingBytes);
    }
  });

  it('decodeAddressRecord verifies every vector and returns its fields', async () => {
    for (const v of vectors.addressRecords) {
      const record = await decodeAddressRecord(fromHex(v.encoded));
      expect(record.version).toBe(1);
      expect(toHex(record.publicKey)).toBe(toHex(publicKeyOf(v.key)));
      expect(record.networkId).toBe(v.networkId);
      expect(record.servedBy).toEqual(v.servedBy);
      expect(record.sequence).toBe(v.sequence);
      expect(record.expiresAt).toBe(v.expiresAt);
      expect(toHex(record.bytes)).toBe(v.encoded);
      expect(await verify(record.publicKey, CONTEXTS.ADDRESS_RECORD, fromHex(v.unsigned), record.signature)).toBe(true);
    }
  });

  it('docs/records.md contains every address record vector', () => {
    const doc = readFileSync(new URL('../../docs/records.md', import.meta.url), 'utf8').replace(/\s+/g, '');
    for (const v of vectors.addressRecords) {
      expect(doc).toContain(v.encoded);
      expect(doc).toContain(v.unsigned);
    }
    for (const peer of vectors.peers) expect(doc).toContain(peer.peerId);
  });
});

describe('decoding address records', () => {
  it('refuses the vector with any single byte changed, with a record error code', async () => {
    const original = fromHex(first.encoded);
    const seen = new Set<string>();
    for (let position = 0; position < original.length; position++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = Uint8Array.from(original);
        tampered[position]! ^= mask;
        const error = await caught(() => decodeAddressRecord(tampered));
        expect(RECORD_ERROR_CODES, `byte ${position} ^ ${mask}: ${error.message}`).toContain(error.code);
        seen.add(error.code);
      }
    }
    expect(seen).toContain('BAD_RECORD_SIGNATURE');
    expect(seen).toContain('INVALID_RECORD_FIELD');
    expect(seen).toContain('MALFORMED_RECORD');
  });

  it('refuses input over MAX_ADDRESS_RECORD_BYTES with RECORD_TOO_LARGE before decoding it', async () => {
    const garbage = new Uint8Array(MAX_ADDRESS_RECORD_BYTES + 1).fill(0xff);
    await expectCode(() => decodeAddressRecord(garbage), 'RECORD_TOO_LARGE');
    await expectCode(() => decodeAddressRecord(new Uint8Array(MAX_ADDRESS_RECORD_BYTES).fill(0xff)), 'MALFORMED_RECORD');
  });

  it('refuses an identity statement with WRONG_RECORD_TYPE, and an address record is not a statement', async () => {
    await expectCode(() => decodeAddressRecord(fromHex(vectors.identityStatements[0]!.encoded)), 'WRONG_RECORD_TYPE');
    await expectCode(() => decodeIdentityStatement(fromHex(first.encoded)), 'WRONG_RECORD_TYPE');
  });

  it('refuses a record signed by another key, or under another context, with BAD_RECORD_SIGNATURE', async () => {
    const fields = wire([['device', DEVICE, []]]);
    await expectCode(async () => decodeAddressRecord(await craft(fields, BOB)), 'BAD_RECORD_SIGNATURE');
    const unsigned = encodeRecord(fields);
    const otherContext = encodeRecord([...fields, await sign(ALICE, CONTEXTS.IDENTITY_STATEMENT, unsigned)]);
    await expectCode(() => decodeAddressRecord(otherContext), 'BAD_RECORD_SIGNATURE');
    expect((await decodeAddressRecord(await craft(fields))).servedBy).toEqual([{ kind: 'device', peerId: DEVICE, multiaddrs: [] }]);
  });

  const badServedBy: Array<[string, unknown, string]> = [
    ['a map instead of entries', new Map(), 'servedBy'],
    ['an entry of two elements', [['device', DEVICE]], 'servedBy[0]'],
    ['an unknown kind', [['phone', DEVICE, []]], 'servedBy[0].kind'],
    ['a PeerId that is not one', [['device', 'not-a-peer-id', []]], 'servedBy[0].peerId'],
    ['a PeerId in CID form', [['device', 'bafzaajaiaejcb3s6tv6rp5s2ph76dtcnrwfe5ttrjfpg63ql3bnw2fsgxtxmbwpe', []]], 'servedBy[0].peerId'],
    ['the same PeerId twice', [['device', DEVICE, []], ['host', DEVICE, []]], 'servedBy[1].peerId'],
    ['a multiaddr that is not one', [['device', DEVICE, ['/ip4/999.1.1.1/tcp/1']]], 'servedBy[0].multiaddrs[0]'],
    ['a multiaddr not in canonical form', [['device', DEVICE, ['/ip4/198.51.100.7/tcp/0443']]], 'servedBy[0].multiaddrs[0]'],
    ['an empty multiaddr', [['device', DEVICE, ['/']]], 'servedBy[0].multiaddrs[0]'],
    ['an address ending in another peer', [['device', DEVICE, [`/ip4/198.51.100.7/tcp/443/wss/p2p/${HOST}`]]], 'servedBy[0].multiaddrs[0]'],
    ['the same address twice', [['device', DEVICE, ['/ip4/198.51.100.7/tcp/443/wss', '/ip4/198.51.100.7/tcp/443/wss']]], 'servedBy[0].multiaddrs[1]'],
    ['too many addresses', [['device', DEVICE, Array.from({ length: MAX_ADDRESSES_PER_ENTRY + 1 }, (_, i) => `/ip4/198.51.100.7/tcp/${1000 + i}`)]], 'servedBy[0].multiaddrs'],
  ];
  for (const [what, servedBy, field] of badServedBy) {
    it(`refuses ${what} with INVALID_RECORD_FIELD naming ${field}`, async () => {
      const error = await expectCode(async () => decodeAddressRecord(await craft(wire(servedBy))), 'INVALID_RECORD_FIELD');
      expect((error as P2pbError & { field: string }).field).toBe(field);
    });
  }

  it('refuses more than MAX_SERVED_BY_ENTRIES entries', async () => {
    const { generateKeyPair } = await import('@libp2p/crypto/keys');
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
    const entries: unknown[] = [];
    for (let i = 0; i <= MAX_SERVED_BY_ENTRIES; i++) {
      entries.push(['host', peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString(), []]);
    }
    const error = await expectCode(async () => decodeAddressRecord(await craft(wire(entries))), 'INVALID_RECORD_FIELD');
    expect((error as P2pbError & { field: string }).field).toBe('servedBy');
  });

  it('refuses a network id that is not canonical', async () => {
    for (const networkId of ['AAAQEAYEAUDAOCAJBIFQYDIOB4', 'aaaqeayeaudaocajbifqydiob5', 'aaaqeayeaudaocajbifqydiob', 7]) {
      const error = await expectCode(async () => decodeAddressRecord(await craft(wire([], { networkId }))), 'INVALID_RECORD_FIELD');
      expect((error as P2pbError & { field: string }).field).toBe('networkId');
    }
  });

  it('refuses a sequence that is not an unsigned safe integer', async () => {
    for (const sequence of [-1, 'one']) {
      const error = await expectCode(async () => decodeAddressRecord(await craft(wire([], { sequence }))), 'INVALID_RECORD_FIELD');
      expect((error as P2pbError & { field: string }).field).toBe('sequence');
    }
  });

  it('returns copies, so changing the input afterwards changes nothing', async () => {
    const bytes = fromHex(first.encoded);
    const record = await decodeAddressRecord(bytes);
    bytes.fill(0);
    expect(toHex(record.bytes)).toBe(first.encoded);
  });
});

describe('creating address records', () => {
  it('applies the same field checks as decoding', async () => {
    await expectCode(() => createAddressRecord(input({ networkId: 'nope' })), 'INVALID_RECORD_FIELD');
    await expectCode(() => createAddressRecord(input({ servedBy: [{ kind: 'laptop', peerId: DEVICE, multiaddrs: [] }] })), 'INVALID_RECORD_FIELD');
    await expectCode(() => createAddressRecord(input({ servedBy: [{ kind: 'device', peerId: DEVICE, multiaddrs: 'x' }] })), 'INVALID_RECORD_FIELD');
    await expectCode(() => createAddressRecord(input({ servedBy: 'x' })), 'INVALID_RECORD_FIELD');
    await expectCode(() => createAddressRecord(input({ sequence: 1.5 })), 'INVALID_RECORD_FIELD');
    await expectCode(() => createAddressRecord(input({ expiresAt: -1 })), 'INVALID_RECORD_FIELD');
  });

  it('refuses to make a record over MAX_ADDRESS_RECORD_BYTES with RECORD_TOO_LARGE', async () => {
    const { generateKeyPair } = await import('@libp2p/crypto/keys');
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
    const long = (i: number) => `/dns4/${'a'.repeat(40)}${i}.example/tcp/443/tls/ws/p2p/${HOST}/p2p-circuit`;
    const servedBy: ServedBy[] = [];
    for (let e = 0; e < MAX_SERVED_BY_ENTRIES; e++) {
      const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
      servedBy.push({ kind: 'device', peerId, multiaddrs: Array.from({ length: MAX_ADDRESSES_PER_ENTRY }, (_, i) => long(i)) });
    }
    await expectCode(() => createAddressRecord(input({ servedBy })), 'RECORD_TOO_LARGE');
  });

  it('accepts an empty served-by list (a record that withdraws every address)', async () => {
    const record = await decodeAddressRecord(await createAddressRecord(input({ servedBy: [] })));
    expect(record.servedBy).toEqual([]);
  });
});

describe('ordering and views', () => {
  it('orders records by sequence, then expiry, then bytes', async () => {
    const make = async (sequence: number, expiresAt: number, servedBy: ServedBy[] = []) =>
      decodeAddressRecord(await createAddressRecord(input({ sequence, expiresAt, servedBy })));
    const a = await make(1, 2000);
    const b = await make(2, 1000);
    const c = await make(2, 3000);
    const d = await make(2, 3000, [device()]);
    expect(compareAddressRecords(a, b)).toBeLessThan(0);
    expect(compareAddressRecords(b, c)).toBeLessThan(0);
    expect(Math.sign(compareAddressRecords(c, d))).toBe(-Math.sign(compareAddressRecords(d, c)));
    expect(compareAddressRecords(c, d)).not.toBe(0);
    expect(compareAddressRecords(c, c)).toBe(0);
  });

  it('gives the JSON view', async () => {
    const record = await decodeAddressRecord(fromHex(first.encoded));
    expect(addressRecordToJSON(record)).toEqual({
      publicKey: encodePublicKey(publicKeyOf('alice')),
      networkId: first.networkId,
      servedBy: first.servedBy,
      sequence: first.sequence,
      expiresAt: first.expiresAt,
      signature: toBase64url(record.signature),
      encoded: toBase64url(fromHex(first.encoded)),
    });
  });

  it('is refused when a byte is appended', async () => {
    await expectCode(() => decodeAddressRecord(concatBytes(fromHex(first.encoded), Uint8Array.of(0))), 'MALFORMED_RECORD');
  });
});
