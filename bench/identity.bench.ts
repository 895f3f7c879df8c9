/**
 * ed25519 through lib/identity against node:crypto, measured in the same run on the same
 * messages. node:crypto gets the precomputed signing bytes and a ready KeyObject (its best case);
 * lib/identity builds the signing bytes on every call, as real callers do.
 *
 * Modes:
 * - sequential: one operation at a time (lib awaits each; node:crypto is synchronous).
 * - batched: 64 operations in flight (Promise.all), as the engine verifies a batch of envelopes.
 *   WebCrypto in Node runs on the libuv thread pool, so batches use more than one core; the
 *   node:crypto baselines are its synchronous loop and its callback API (also thread pool) in
 *   batches of 64.
 */
import {
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  randomBytes as nodeRandomBytes,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CONTEXTS, createSigner, cryptoBackend, generateKeyPair, signingBytes } from '../lib/identity/index.ts';
import type { KeyPair } from '../lib/identity/index.ts';

const SAMPLE_MS = 400;
const WARMUP_MS = 300;
const ROUNDS = 3;
const BATCH = 64;
const MESSAGES = 256;
const MESSAGE_BYTES = 256;
const CONTEXT = CONTEXTS.PAGE_SIGN;

type Op = (i: number) => unknown;

interface Sample {
  opsPerSecond: number;
  /** Process CPU time (all threads: main + libuv pool) per operation, in µs. Less sensitive to
   *  other load on the machine than wall-clock throughput. */
  cpuMicros: number;
}

/** Runs `op` for about `ms`, calling it in batches of `batch` (awaited together). */
async function measure(op: Op, ms: number, batch: number): Promise<Sample> {
  let done = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    if (batch === 1) {
      for (let i = 0; i < 16; i++) await op(done++);
    } else {
      const pending = new Array<unknown>(batch);
      for (let i = 0; i < batch; i++) pending[i] = op(done++);
      await Promise.all(pending);
    }
    now = performance.now();
  }
  const used = process.cpuUsage(cpu);
  return { opsPerSecond: (done * 1000) / (now - start), cpuMicros: (used.user + used.system) / done };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);

/**
 * Measures the contenders interleaved (A B C A B C …, after a warm-up of each) so that noise
 * from other work on the machine hits all of them alike; reports the median per contender.
 */
async function compare(
  title: string,
  contenders: Array<{ name: string; op: Op; batch?: number }>,
  baselineName: string,
): Promise<Record<string, number>> {
  for (const c of contenders) await measure(c.op, WARMUP_MS, c.batch ?? 1);
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of contenders) samples.get(c.name)!.push(await measure(c.op, SAMPLE_MS, c.batch ?? 1));
  }
  const result: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  for (const [name, xs] of samples) {
    result[name] = median(xs.map((x) => x.opsPerSecond));
    cpu[name] = median(xs.map((x) => x.cpuMicros));
  }
  const baseline = result[baselineName]!;
  console.log(`\n${title}`);
  for (const c of contenders) {
    const ratio = c.name === baselineName ? '  (baseline)' : `  ratio ${(result[c.name]! / baseline).toFixed(2)}`;
    console.log(`  ${c.name.padEnd(50)} ${fmt(result[c.name]!)} /s ${ratio.padEnd(13)} cpu ${cpu[c.name]!.toFixed(0).padStart(4)} µs/op`);
  }
  return result;
}

function nodeKeys(pair: KeyPair): { privateKey: KeyObject; publicKey: KeyObject } {
  return {
    privateKey: createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), pair.secretKey]),
      format: 'der',
      type: 'pkcs8',
    }),
    publicKey: createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pair.publicKey]),
      format: 'der',
      type: 'spki',
    }),
  };
}

const nodeVerifyAsync = (data: Uint8Array, key: KeyObject, signature: Uint8Array) =>
  new Promise<boolean>((resolve, reject) =>
    nodeVerify(null, data, key, signature, (error, ok) => (error ? reject(error) : resolve(ok))),
  );
const nodeSignAsync = (data: Uint8Array, key: KeyObject) =>
  new Promise<Buffer>((resolve, reject) =>
    nodeSign(null, data, key, (error, sig) => (error ? reject(error) : resolve(sig))),
  );

export async function run(): Promise<void> {
  const backend = await cryptoBackend();
  console.log(`lib/identity backend: ${backend}; ${MESSAGES} messages of ${MESSAGE_BYTES} bytes, context ${CONTEXT}`);
  const lib = createSigner();
  const noble = createSigner({ backend: 'noble' });

  const pair = await generateKeyPair();
  const node = nodeKeys(pair);
  const messages = Array.from({ length: MESSAGES }, () => new Uint8Array(nodeRandomBytes(MESSAGE_BYTES)));
  const data = messages.map((m) => signingBytes(CONTEXT, m));
  const signatures = await Promise.all(messages.map((m) => lib.sign(pair.secretKey, CONTEXT, m)));
  for (let i = 0; i < MESSAGES; i++) {
    if (!nodeVerify(null, data[i]!, node.publicKey, signatures[i]!)) throw new Error('baseline disagrees');
  }
  const signingKey = await lib.createSigningKey(pair.secretKey);
  const at = (i: number) => i % MESSAGES;

  // --- verify, one key --------------------------------------------------------------------
  const cryptoKey = await crypto.subtle.importKey('raw', new Uint8Array(pair.publicKey), 'Ed25519', false, ['verify']);
  const rawVerify: Op = (i) => crypto.subtle.verify('Ed25519', cryptoKey, signatures[at(i)]! as Uint8Array<ArrayBuffer>, data[at(i)]!);
  const libVerify: Op = (i) => lib.verify(pair.publicKey, CONTEXT, messages[at(i)]!, signatures[at(i)]!);
  const nodeVerifySync: Op = (i) => nodeVerify(null, data[at(i)]!, node.publicKey, signatures[at(i)]!);
  const nodeVerifyCb: Op = (i) => nodeVerifyAsync(data[at(i)]!, node.publicKey, signatures[at(i)]!);

  const vSeq = await compare(
    'verify, sequential (one at a time)',
    [
      { name: 'node:crypto verify (sync)', op: nodeVerifySync },
      { name: 'crypto.subtle.verify, no lib (await each)', op: rawVerify },
      { name: 'lib/identity verify (await each)', op: libVerify },
    ],
    'node:crypto verify (sync)',
  );
  const vBatch = await compare(
    `verify, batched (${BATCH} in flight)`,
    [
      { name: 'node:crypto verify (sync loop)', op: nodeVerifySync },
      { name: `node:crypto verify (callback, ${BATCH} in flight)`, op: nodeVerifyCb, batch: BATCH },
      { name: `crypto.subtle.verify, no lib (${BATCH} in flight)`, op: rawVerify, batch: BATCH },
      { name: `lib/identity verify (${BATCH} in flight)`, op: libVerify, batch: BATCH },
    ],
    'node:crypto verify (sync loop)',
  );
  const nodeBatch = vBatch[`node:crypto verify (callback, ${BATCH} in flight)`]!;
  console.log(
    `  lib batched / node:crypto callback batched: ${(vBatch[`lib/identity verify (${BATCH} in flight)`]! / nodeBatch).toFixed(2)}`,
  );

  // --- verify, many keys ------------------------------------------------------------------
  const KEYS = 512;
  const pairs = await Promise.all(Array.from({ length: KEYS }, () => generateKeyPair()));
  const nodePublic = pairs.map((p) => nodeKeys(p).publicKey);
  const manySigs = await Promise.all(pairs.map((p, k) => lib.sign(p.secretKey, CONTEXT, messages[k % MESSAGES]!)));
  const cold = createSigner({ verifyKeyCacheSize: 0 });
  await compare(
    `verify, ${KEYS} different keys in turn, ${BATCH} in flight`,
    [
      { name: 'node:crypto verify (sync, KeyObjects ready)', op: (i) => nodeVerify(null, data[(i % KEYS) % MESSAGES]!, nodePublic[i % KEYS]!, manySigs[i % KEYS]!) },
      {
        name: 'node:crypto verify (sync, key from raw bytes)',
        op: (i) =>
          nodeVerify(
            null,
            data[(i % KEYS) % MESSAGES]!,
            { key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pairs[i % KEYS]!.publicKey]), format: 'der', type: 'spki' },
            manySigs[i % KEYS]!,
          ),
      },
      { name: 'lib/identity verify (key cache warm)', op: (i) => lib.verify(pairs[i % KEYS]!.publicKey, CONTEXT, messages[(i % KEYS) % MESSAGES]!, manySigs[i % KEYS]!), batch: BATCH },
      { name: 'lib/identity verify (no key cache)', op: (i) => cold.verify(pairs[i % KEYS]!.publicKey, CONTEXT, messages[(i % KEYS) % MESSAGES]!, manySigs[i % KEYS]!), batch: BATCH },
    ],
    'node:crypto verify (sync, KeyObjects ready)',
  );

  // --- sign ----------------------------------------------------------------------------------
  const nodeSignSync: Op = (i) => nodeSign(null, data[at(i)]!, node.privateKey);
  const sSeq = await compare(
    'sign, sequential',
    [
      { name: 'node:crypto sign (sync, KeyObject ready)', op: nodeSignSync },
      { name: 'lib/identity SigningKey.sign (await each)', op: (i) => signingKey.sign(CONTEXT, messages[at(i)]!) },
      { name: 'lib/identity sign(secretKey) (await each)', op: (i) => lib.sign(pair.secretKey, CONTEXT, messages[at(i)]!) },
    ],
    'node:crypto sign (sync, KeyObject ready)',
  );
  const sBatch = await compare(
    `sign, batched (${BATCH} in flight)`,
    [
      { name: 'node:crypto sign (sync loop)', op: nodeSignSync },
      { name: `node:crypto sign (callback, ${BATCH} in flight)`, op: (i) => nodeSignAsync(data[at(i)]!, node.privateKey), batch: BATCH },
      { name: `lib/identity SigningKey.sign (${BATCH} in flight)`, op: (i) => signingKey.sign(CONTEXT, messages[at(i)]!), batch: BATCH },
      { name: `lib/identity sign(secretKey) (${BATCH} in flight)`, op: (i) => lib.sign(pair.secretKey, CONTEXT, messages[at(i)]!), batch: BATCH },
    ],
    'node:crypto sign (sync loop)',
  );

  // --- noble fallback, for information -------------------------------------------------------
  const nobleKey = await noble.createSigningKey(pair.secretKey);
  const nobleFig = await compare(
    '@noble/ed25519 fallback (for information; browsers without WebCrypto Ed25519)',
    [
      { name: 'node:crypto verify (sync)', op: nodeVerifySync },
      { name: 'noble verify (await each)', op: (i) => noble.verify(pair.publicKey, CONTEXT, messages[at(i)]!, signatures[at(i)]!) },
      { name: 'noble SigningKey.sign (await each)', op: (i) => nobleKey.sign(CONTEXT, messages[at(i)]!) },
    ],
    'node:crypto verify (sync)',
  );

  const goal = 0.85;
  const seqRatio = vSeq['lib/identity verify (await each)']! / vSeq['node:crypto verify (sync)']!;
  const batchRatio = vBatch[`lib/identity verify (${BATCH} in flight)`]! / vBatch['node:crypto verify (sync loop)']!;
  console.log('\nsummary (lib / node:crypto)');
  console.log(`  verify sequential ${seqRatio.toFixed(2)}  (goal ≥ ${goal}: ${seqRatio >= goal ? 'met' : 'NOT met'})`);
  console.log(`  verify batched    ${batchRatio.toFixed(2)}  vs sync loop; ${(vBatch[`lib/identity verify (${BATCH} in flight)`]! / nodeBatch).toFixed(2)} vs node callback batched`);
  console.log(`  sign sequential   ${(sSeq['lib/identity SigningKey.sign (await each)']! / sSeq['node:crypto sign (sync, KeyObject ready)']!).toFixed(2)}  (SigningKey)`);
  console.log(`  sign batched      ${(sBatch[`lib/identity SigningKey.sign (${BATCH} in flight)`]! / sBatch['node:crypto sign (sync loop)']!).toFixed(2)}  (SigningKey) vs sync loop`);
  console.log(`  noble verify      ${(nobleFig['noble verify (await each)']! / nobleFig['node:crypto verify (sync)']!).toFixed(2)}`);
}
