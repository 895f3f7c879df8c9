/**
 * Compact runs: consecutive envelopes of one feed, sent without what the run already says.
 * Every envelope of a feed repeats its version, type, author and feed name, and names the hash
 * of the envelope before it; in a run of one feed's envelopes seq, seq + 1, … only the first
 * `prev` is needed, and the feed id travels once beside the run. A run entry keeps the rest:
 * the timestamp, the Yjs update and the signature.
 *
 * The receiver rebuilds each envelope's exact bytes (the author's signed bytes) from its feed's
 * layout, the run's sequence and the hash of the envelope rebuilt before it, and checks it as it
 * would check the envelope itself: fields, size, the author's signature over the rebuilt signed
 * part, the Yjs bytes; the chain rules follow in the feed. What is stored and re-served is the
 * rebuilt envelope. Nothing is trusted from the sender that the signature does not cover: a
 * changed entry, a run sent under another feed id, a wrong first `prev` or a dropped or swapped
 * entry all rebuild bytes the author never signed. Format: docs/feeds.md#compact-runs.
 */
import { P2pbError } from '../util/errors.ts';
import { SIGNATURE_LENGTH } from '../identity/index.ts';
import { MAX_ENVELOPE_BYTES } from './constants.ts';
import {
  assembleEnvelope,
  checkTail,
  checkYjsUpdate,
  fieldBytes,
  requireEnvelopeSignature,
} from './codec.ts';
import type { DecodeResult, EnvelopeLayout, FeedEnvelope } from './codec.ts';
import { SIGNATURE_TRAILER_BYTES, readEnvelope, unsignedLength, writeUnsigned } from './envelope-bytes.ts';
import { EnvelopeTooLargeError, FeedFieldError, MalformedEnvelopeError } from './errors.ts';
import { equalBytes } from '../util/bytes.ts';

/** One envelope of a run: what its feed, sequence and predecessor do not already say. */
export interface EnvelopeRunEntry {
  readonly timestamp: number;
  readonly update: Uint8Array;
  readonly signature: Uint8Array;
}

/** Envelopes `seq`, `seq + 1`, … of one feed; `prev` is the first one's. */
export interface EnvelopeRun {
  readonly seq: number;
  readonly prev: Uint8Array;
  readonly entries: readonly EnvelopeRunEntry[];
}

/**
 * The run of consecutive envelopes of one feed, as this peer stored them (verified when they
 * arrived). Fields are views into the given bytes.
 * @throws MalformedEnvelopeError when the list is empty, mixes feeds, skips a sequence or holds
 * something that is not an envelope (a store never does)
 */
export function compactRun(envelopes: readonly Uint8Array[]): EnvelopeRun {
  if (envelopes.length === 0) throw new MalformedEnvelopeError('a run holds at least one envelope');
  let first: ReturnType<typeof readEnvelope> | undefined;
  const entries: EnvelopeRunEntry[] = [];
  for (const bytes of envelopes) {
    let fields: ReturnType<typeof readEnvelope>;
    try {
      fields = readEnvelope(bytes);
    } catch (cause) {
      throw new MalformedEnvelopeError(`a stored envelope does not have the envelope layout (${(cause as Error).message})`, { cause });
    }
    if (!first) first = fields;
    else if (!equalBytes(fields.prefix, first.prefix)) throw new MalformedEnvelopeError('a run holds envelopes of one feed only');
    else if (fields.seq !== first.seq + entries.length) throw new MalformedEnvelopeError(`a run is consecutive: ${fields.seq} after ${first.seq + entries.length - 1}`);
    entries.push({ timestamp: fields.timestamp, update: fields.update, signature: fields.signature });
  }
  return { seq: first!.seq, prev: first!.prev, entries };
}

/**
 * Rebuilds and verifies the envelopes of a run of the feed `layout` describes. One result per
 * entry, in order; refusals are P2pbErrors, never thrown. Checks, per entry: fields (sequence,
 * prev — the run's for the first, the hash of the rebuilt envelope before it for the others —
 * timestamp, update, signature length), size, the author's signature, the Yjs update. An entry
 * after one that could not be rebuilt is refused too (INVALID_FEED_FIELD "prev": its
 * predecessor's hash is unknown); an entry after one whose signature fails fails its own, since
 * the author signed another `prev`.
 * @throws MalformedEnvelopeError when `run` has no list of entries
 */
export async function openRun(
  layout: EnvelopeLayout,
  run: EnvelopeRun,
  options: { signal?: AbortSignal } = {},
): Promise<Array<DecodeResult<FeedEnvelope>>> {
  options.signal?.throwIfAborted();
  const results = await Promise.all(checkRun(layout, run));
  options.signal?.throwIfAborted();
  return results;
}

/**
 * openRun's work, one promise per entry (in order), each settling as soon as that entry is
 * checked: for a caller that ingests the first entries while later ones are still checked.
 * The promises never reject for a refusal (only for a bug).
 * @throws MalformedEnvelopeError when `run` has no list of entries
 */
export function checkRun(layout: EnvelopeLayout, run: EnvelopeRun): Array<Promise<DecodeResult<FeedEnvelope>>> {
  if (!Array.isArray(run?.entries)) throw new MalformedEnvelopeError('a run has a list of entries');
  // Each signature check starts as soon as its envelope is rebuilt (WebCrypto works off the
  // main thread in browsers), while the next one is being rebuilt and hashed.
  const checks: Array<Promise<DecodeResult<FeedEnvelope>>> = [];
  const refuse = (error: P2pbError) => checks.push(Promise.resolve({ ok: false, error }));
  let prev: Uint8Array | null = run.prev;
  for (let i = 0; i < run.entries.length; i++) {
    const entry = run.entries[i] as Partial<EnvelopeRunEntry> | undefined;
    const seq = run.seq + i;
    if (prev === null) {
      refuse(new FeedFieldError('prev', `envelope ${seq} follows an entry of its run that could not be rebuilt`));
      continue;
    }
    try {
      const tail = checkTail({ seq, prev, timestamp: entry?.timestamp, update: entry?.update });
      const signature = fieldBytes(entry?.signature, 'signature', SIGNATURE_LENGTH);
      const size = unsignedLength(layout.prefix, tail) + SIGNATURE_TRAILER_BYTES;
      if (size > MAX_ENVELOPE_BYTES) throw new EnvelopeTooLargeError(size, MAX_ENVELOPE_BYTES);
      const unsigned = writeUnsigned(layout.prefix, tail);
      const envelope = assembleEnvelope(layout, unsigned, signature, tail);
      checks.push(verifyRebuilt(layout, unsigned, envelope));
      prev = envelope.hash;
    } catch (error) {
      if (!(error instanceof P2pbError)) {
        for (const check of checks) check.catch(() => {}); // a bug: thrown below, not left unhandled
        throw error;
      }
      refuse(error);
      prev = null;
    }
  }
  return checks;
}

/** The author's signature over the rebuilt signed part, then the Yjs bytes: as for any envelope. */
async function verifyRebuilt(layout: EnvelopeLayout, unsigned: Uint8Array, envelope: FeedEnvelope): Promise<DecodeResult<FeedEnvelope>> {
  try {
    await requireEnvelopeSignature(layout.author, unsigned, envelope.signature);
    checkYjsUpdate(envelope.update, `envelope ${envelope.seq}'s update`);
    return { ok: true, value: envelope };
  } catch (error) {
    if (error instanceof P2pbError) return { ok: false, error };
    throw error;
  }
}
