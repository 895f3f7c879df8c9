import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../identity/index.ts';
import { P2pbError } from '../util/errors.ts';
import { expectCode } from '../util/test-errors.ts';
import { RECORD_ERROR_CODES, createHostingDelegation, decodeHostingDelegation } from './index.ts';

const NETWORK = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
const HOST = '12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5';

describe('hosting delegation', () => {
  it('round-trips, and every flipped byte is refused with a record error', async () => {
    const { secretKey } = await generateKeyPair();
    const bytes = await createHostingDelegation({ secretKey, networkId: NETWORK, hostPeerId: HOST, action: 'host', sequence: 7, expiresAt: 1_800_000_000_000 });
    const decoded = await decodeHostingDelegation(bytes);
    expect(decoded).toMatchObject({ networkId: NETWORK, hostPeerId: HOST, action: 'host', sequence: 7, expiresAt: 1_800_000_000_000 });
    for (let i = 0; i < bytes.length; i++) {
      const tampered = bytes.slice();
      tampered[i]! ^= 0x01;
      try {
        await decodeHostingDelegation(tampered);
        throw new Error(`byte ${i} flipped was accepted`);
      } catch (error) {
        expect(error).toBeInstanceOf(P2pbError);
        expect(RECORD_ERROR_CODES as readonly string[]).toContain((error as P2pbError).code);
      }
    }
  });

  it('refuses a bad action or host at creation, by field', async () => {
    const { secretKey } = await generateKeyPair();
    const base = { secretKey, networkId: NETWORK, hostPeerId: HOST, sequence: 1, expiresAt: 1_800_000_000_000 };
    await expectCode(() => createHostingDelegation({ ...base, action: 'own' as never }), 'INVALID_RECORD_FIELD');
    await expectCode(() => createHostingDelegation({ ...base, action: 'host', hostPeerId: 'not a peer' }), 'INVALID_RECORD_FIELD');
  });
});
