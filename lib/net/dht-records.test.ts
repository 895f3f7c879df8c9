import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../util/bytes.ts';
import { hasCode } from '../util/errors.ts';
import { CONTEXTS, generateKeyPair, sign } from '../identity/index.ts';
import type { KeyPair } from '../identity/index.ts';
import { encodeRecord } from '../records/codec.ts';
import { MAX_ADDRESS_RECORD_BYTES, createAddressRecord, decodeAddressRecord } from '../records/index.ts';
import { DAY, KiB, MINUTE } from '../util/time.ts';
import {
  MAX_ADDRESS_RECORD_LIFETIME,
  MAX_DHT_INBOUND_STREAM_BYTES,
  addressRecordKey,
  createNetworkId,
  dhtProtocol,
} from './index.ts';
import type { NetworkNode } from './index.ts';
import { nextEvent, putValueMessage, rawDhtRequest, startMemoryNetwork, stopAll } from './test-support.ts';

describe('address records in the DHT', () => {
  const networkId = createNetworkId();
  let nodes: NetworkNode[] = [];
  let holder: NetworkNode; // the node under attack
  let publisher: NetworkNode;
  let attacker: NetworkNode; // a member that sends hand-made PUT_VALUE requests
  let alice: KeyPair;
  let bob: KeyPair;
  let stored: Uint8Array; // what every node holds for alice
  let sequence = 5;

  const record = (fields: { sequence?: number; expiresAt?: number; networkId?: string; key?: KeyPair } = {}) =>
    createAddressRecord({
      secretKey: (fields.key ?? alice).secretKey,
      networkId: fields.networkId ?? networkId,
      servedBy: [{ kind: 'device', peerId: publisher.peerId.toString(), multiaddrs: [] }],
      sequence: fields.sequence ?? sequence,
      expiresAt: fields.expiresAt ?? Date.now() + 10 * MINUTE,
    });

  beforeAll(async () => {
    nodes = await startMemoryNetwork(3, { networkId });
    [holder, publisher, attacker] = nodes as [NetworkNode, NetworkNode, NetworkNode];
    alice = await generateKeyPair();
    bob = await generateKeyPair();
    stored = await record();
    const { peers } = await publisher.publish(stored);
    expect(peers).toBe(2);
  }, 60_000);

  afterAll(() => stopAll(nodes));

  /**
   * Sends `value` under `key` from the attacker straight to the holder (no validation on the
   * sending side) and returns the code the holder refused it with.
   */
  async function refusal(value: Uint8Array, key = addressRecordKey(alice.publicKey)): Promise<string> {
    const refused = nextEvent(holder, 'record-refused');
    const sent = await rawDhtRequest(attacker, holder.peerId, putValueMessage(key, value)).then(
      () => 'stored',
      () => 'reset',
    );
    expect(sent, 'the holder resets the stream of a refused PUT_VALUE').toBe('reset');
    return (await refused).code;
  }

  async function expectUnchanged(): Promise<void> {
    const current = await holder.getStoredRecord(alice.publicKey);
    expect(current && toHex(current.bytes)).toBe(toHex(stored));
  }

  it('every node stores the published record', async () => {
    for (const node of nodes) {
      const current = await node.getStoredRecord(alice.publicKey);
      expect(current?.sequence).toBe(sequence);
    }
  });

  it('refuses a forged record (fields changed under the old signature) with BAD_RECORD_SIGNATURE', async () => {
    const original = await decodeAddressRecord(stored);
    const forged = encodeRecord([
      1,
      'address-record',
      original.publicKey,
      networkId,
      [['device', attacker.peerId.toString(), []]] as never,
      sequence + 1,
      original.expiresAt,
      original.signature,
    ]);
    expect(await refusal(forged)).toBe('BAD_RECORD_SIGNATURE');
    await expectUnchanged();
  });

  it('refuses a record with a lower sequence than the stored one with STALE_RECORD', async () => {
    expect(await refusal(await record({ sequence: sequence - 1 }))).toBe('STALE_RECORD');
    // Same sequence, earlier expiry: also older.
    const current = await decodeAddressRecord(stored);
    expect(await refusal(await record({ expiresAt: current.expiresAt - 1 }))).toBe('STALE_RECORD');
    await expectUnchanged();
  });

  it('refuses an expired record with EXPIRED_RECORD', async () => {
    expect(await refusal(await record({ sequence: sequence + 1, expiresAt: Date.now() - 1 }))).toBe('EXPIRED_RECORD');
    await expectUnchanged();
  });

  it('refuses a record that claims to live too long with RECORD_LIFETIME_TOO_LONG', async () => {
    const expiresAt = Date.now() + MAX_ADDRESS_RECORD_LIFETIME + DAY;
    expect(await refusal(await record({ sequence: sequence + 1, expiresAt }))).toBe('RECORD_LIFETIME_TOO_LONG');
    await expectUnchanged();
  });

  it('refuses an oversized value with RECORD_TOO_LARGE', async () => {
    const oversized = new Uint8Array(MAX_ADDRESS_RECORD_BYTES + 1).fill(0x61);
    expect(await refusal(oversized)).toBe('RECORD_TOO_LARGE');
    await expectUnchanged();
  });

  it("refuses another identity's valid record under this key with RECORD_KEY_MISMATCH", async () => {
    expect(await refusal(await record({ key: bob, sequence: sequence + 1 }))).toBe('RECORD_KEY_MISMATCH');
    await expectUnchanged();
  });

  it("refuses a valid record of another network with WRONG_NETWORK", async () => {
    expect(await refusal(await record({ networkId: createNetworkId(), sequence: sequence + 1 }))).toBe('WRONG_NETWORK');
    await expectUnchanged();
  });

  it('refuses a key outside /p2pb-addr/<public key> with INVALID_RECORD_KEY', async () => {
    expect(await refusal(await record({ sequence: sequence + 1 }), utf8('/p2pb-addr/not-a-key'))).toBe('INVALID_RECORD_KEY');
    await expectUnchanged();
  });

  it('refuses a record that is not CBOR with a record error code', async () => {
    expect(await refusal(utf8('{"sequence": 999}'))).toBe('MALFORMED_RECORD');
    await expectUnchanged();
  });

  it('validateRecord gives the same answers without touching the network', async () => {
    const key = addressRecordKey(alice.publicKey);
    const stale = await holder.validateRecord(key, await record({ sequence: 1 })).catch((e: unknown) => e);
    expect(hasCode(stale, 'STALE_RECORD')).toBe(true);
    const wrongKey = await holder.validateRecord(addressRecordKey(bob.publicKey), stored).catch((e: unknown) => e);
    expect(hasCode(wrongKey, 'RECORD_KEY_MISMATCH')).toBe(true);
    expect((await holder.validateRecord(key, stored)).sequence).toBe(sequence);
  });

  it('refuses to publish a record older than the one it holds, with STALE_RECORD', async () => {
    const error = await publisher.publish(await record({ sequence: sequence - 2 })).catch((e: unknown) => e);
    expect(hasCode(error, 'STALE_RECORD'), String(error)).toBe(true);
  });

  it('accepts a newer record from any peer, and resolve returns the newest copy', async () => {
    // Positive control for the refusals above: the same path stores a valid newer record.
    const newer = await record({ sequence: sequence + 1 });
    const echo = await rawDhtRequest(attacker, holder.peerId, putValueMessage(addressRecordKey(alice.publicKey), newer));
    expect(echo.length).toBeGreaterThan(0);
    expect((await holder.getStoredRecord(alice.publicKey))?.sequence).toBe(sequence + 1);
    // Only the holder has it; the publisher still has the older one. The selector picks the newest.
    expect((await publisher.getStoredRecord(alice.publicKey))?.sequence).toBe(sequence);
    expect((await publisher.resolve(alice.publicKey)).sequence).toBe(sequence + 1);
    sequence += 1;
    stored = newer;
  });

  it('keeps the newer record when an older and a newer one race', async () => {
    const key = addressRecordKey(alice.publicKey);
    const older = await record({ sequence: sequence + 1 });
    const newer = await record({ sequence: sequence + 2 });
    await Promise.allSettled([
      rawDhtRequest(attacker, holder.peerId, putValueMessage(key, newer)),
      rawDhtRequest(publisher, holder.peerId, putValueMessage(key, older)),
    ]);
    expect((await holder.getStoredRecord(alice.publicKey))?.sequence).toBe(sequence + 2);
    sequence += 2;
    stored = newer;
  });

  it('resets an inbound DHT stream that sends more than MAX_DHT_INBOUND_STREAM_BYTES', async () => {
    const refused = nextEvent(holder, 'peer-refused', (detail) => detail.code === 'DHT_MESSAGE_TOO_LARGE');
    const stream = await attacker.libp2p.dialProtocol(holder.peerId, dhtProtocol(networkId));
    // A length prefix announcing 1 MiB, then more than the cap of payload.
    const prefix = Uint8Array.of(0x80, 0x80, 0x40);
    const chunk = new Uint8Array(16 * KiB);
    stream.send(prefix);
    for (let sent = 0; sent <= MAX_DHT_INBOUND_STREAM_BYTES && stream.status === 'open'; sent += chunk.length) {
      if (!stream.send(chunk)) await stream.onDrain().catch(() => {});
    }
    const detail = await refused;
    expect(detail.peerId).toBe(attacker.peerId.toString());
    await expectUnchanged();
  });
});

describe('keeping a record fresh', () => {
  it('asks for a new signature before the record expires and publishes it', async () => {
    const networkId = createNetworkId();
    const nodes = await startMemoryNetwork(3, {
      networkId,
      overrides: { timing: { renewBeforeExpiry: 4_000, republishInterval: 60_000, retryInterval: 500 } },
    });
    try {
      const [, publisher, reader] = nodes as [NetworkNode, NetworkNode, NetworkNode];
      const carol = await generateKeyPair();
      const make = (sequence: number) =>
        createAddressRecord({
          secretKey: carol.secretKey,
          networkId,
          servedBy: [{ kind: 'device', peerId: publisher.peerId.toString(), multiaddrs: [] }],
          sequence,
          expiresAt: Date.now() + 5_000,
        });
      const renewed = nextEvent(publisher, 'record-published', (detail) => detail.sequence === 2);
      let asked = 0;
      await publisher.publish(await make(1), {
        renew: async (current) => {
          asked++;
          return make(current.sequence + 1);
        },
      });
      expect((await renewed).peers).toBeGreaterThanOrEqual(1);
      expect(asked).toBe(1);
      expect((await reader.resolve(carol.publicKey)).sequence).toBe(2);
    } finally {
      await stopAll(nodes);
    }
  });
});

it('signing a record with the wrong context does not make it an address record', async () => {
  // Sanity of the crafted-record helper used above: an identity-statement signature over the
  // same bytes is a bad signature here.
  const keys = await generateKeyPair();
  const fields = [1, 'address-record', keys.publicKey, createNetworkId(), [] as never, 1, Date.now() + MINUTE] as const;
  const unsigned = encodeRecord([...fields]);
  const bytes = concatBytes(encodeRecord([...fields, await sign(keys.secretKey, CONTEXTS.IDENTITY_STATEMENT, unsigned)]));
  const error = await decodeAddressRecord(bytes).catch((e: unknown) => e);
  expect(hasCode(error, 'BAD_RECORD_SIGNATURE')).toBe(true);
});
