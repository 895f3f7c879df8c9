/**
 * Both ends of one sync stream. The server answers from a FeedSource (what this peer holds and
 * may serve in this network), sending stored envelopes as compact runs; the client functions
 * send one request and read its answer. Nothing here verifies envelopes: the receiving
 * FeedLibrary rebuilds and checks them, before anything is stored.
 */
import type { Connection, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { P2pbError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import type { PullResult } from '../feeds/pull.ts';
import { compactRun, type EnvelopeRun } from '../feeds/index.ts';
import { MAX_PUSH_ENVELOPES, MAX_PUSH_QUEUE_BYTES, MAX_SYNC_MESSAGE_BYTES, PULL_BATCH_ENVELOPES, SYNC_REQUEST_TIMEOUT, SYNC_TRANSFER_TIMEOUT } from './constants.ts';
import { FeedNotFoundError, NotAHostError, SyncFailedError, SyncMalformedMessageError, SyncMessageTooLargeError, SyncRefusedError, SyncTimeoutError } from './errors.ts';
import { decodeSyncMessage, encodeSyncMessage } from './wire.ts';
import type { FeedQuery, Head, SyncRequest, SyncResponse } from './wire.ts';

/** What a sync server serves from: the feeds this peer holds and may serve in one network. */
export interface FeedSource {
  heads(query: FeedQuery, context: { remotePeer: string }): Promise<Head[]>;
  /** One bounded batch after `after`, or null when the feed is not served here. */
  pull(feed: string, after: number, limit: number, context: { remotePeer: string; signal: AbortSignal }): Promise<PullResult | null>;
  /** Calls `listener` for every newly stored envelope of a servable feed; returns the unsubscribe. */
  onEnvelope(listener: (feed: string, seq: number, bytes: Uint8Array) => void): () => void;
  /** Accepts a hosting delegation (always-on hosts only). @throws a named error to refuse. */
  delegate?(delegation: Uint8Array, context: { remotePeer: string; connection: Connection; signal: AbortSignal }): Promise<void>;
}

/** Whether a query covers `feed` (named, or one of a named author's). */
export function queryCovers(query: FeedQuery, feed: string): boolean {
  return query.feeds.includes(feed) || query.authors.includes(feed.slice(0, feed.indexOf('/')));
}

/** Maps stream failures to named errors. */
export function streamError(error: unknown, what: string): P2pbError {
  if (error instanceof P2pbError) return error;
  const name = (error as Error)?.name;
  if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'InvalidMessageLengthError') {
    return new SyncMessageTooLargeError(Number.NaN, MAX_SYNC_MESSAGE_BYTES);
  }
  if (name === 'TimeoutError') return new SyncTimeoutError(what, { cause: error });
  if (name === 'UnexpectedEOFError') return new SyncMalformedMessageError(`the stream ended inside the ${what}`, { cause: error });
  return new SyncFailedError(`${what} failed: ${(error as Error)?.message ?? error}`, { cause: error });
}

const errorAnswer = (error: P2pbError): SyncResponse => ({ t: 'error', code: error.code, message: error.message });

// ---------------------------------------------------------------------------------------------
// Server

/** Serves one inbound sync stream. Never throws. */
export async function serveSyncStream(
  stream: Stream,
  connection: Connection,
  source: FeedSource,
  options: { log?: Logger; signal?: AbortSignal; timeout?: number } = {},
): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_SYNC_MESSAGE_BYTES });
  const remotePeer = connection.remotePeer.toString();
  const timeout = options.timeout ?? SYNC_REQUEST_TIMEOUT;
  const signal = (ms = timeout) => AbortSignal.any([AbortSignal.timeout(ms), ...(options.signal ? [options.signal] : [])]);
  let request: SyncRequest;
  try {
    let bytes: Uint8Array;
    try {
      bytes = (await lp.read({ signal: signal() })).subarray();
    } catch (error) {
      throw streamError(error, 'request');
    }
    request = decodeSyncMessage(bytes, 'request') as SyncRequest;
  } catch (error) {
    const named = error instanceof P2pbError ? error : new SyncFailedError(String(error));
    options.log?.warn('sync: refused a request from', remotePeer, named.code, named.message);
    await lp.write(encodeSyncMessage(errorAnswer(named)), { signal: signal() }).catch(() => {});
    await stream.close({ signal: signal() }).catch(() => stream.abort(named));
    return;
  }

  if (request.t === 'subscribe') {
    await serveSubscription(stream, lp, request, source, remotePeer, options);
    return;
  }
  let answer: SyncResponse;
  try {
    switch (request.t) {
      case 'heads':
        answer = { t: 'heads', heads: await source.heads(request, { remotePeer }) };
        break;
      case 'pull': {
        const result = await source.pull(request.feed, request.after, request.limit, { remotePeer, signal: signal() });
        if (result === null) throw new FeedNotFoundError(request.feed, 0);
        answer = {
          t: 'batch',
          feed: request.feed,
          snapshot: result.snapshot,
          run: result.envelopes.length > 0 ? compactRun(result.envelopes) : null,
          head: result.head ? { seq: result.head.seq, hash: result.head.hash } : null,
        };
        break;
      }
      case 'delegate':
        if (!source.delegate) throw new NotAHostError();
        await source.delegate(request.delegation, { remotePeer, connection, signal: signal() });
        answer = { t: 'ok' };
        break;
    }
  } catch (error) {
    const named = error instanceof P2pbError ? error : new SyncFailedError(`could not answer: ${(error as Error)?.message ?? error}`);
    if (named.code !== 'FEED_NOT_FOUND') options.log?.warn('sync: answering', request.t, 'from', remotePeer, 'failed:', named.code, named.message);
    answer = errorAnswer(named);
  }
  // A batch (up to PULL_BATCH_BYTES) may take a while on a slow link.
  const sending = answer.t === 'batch' ? signal(options.timeout ?? SYNC_TRANSFER_TIMEOUT) : signal();
  try {
    await lp.write(encodeSyncMessage(answer), { signal: sending });
    await stream.close({ signal: sending });
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Sends current heads, then every new envelope of the covered feeds, until either side closes. */
async function serveSubscription(
  stream: Stream,
  lp: ReturnType<typeof lpStream>,
  query: FeedQuery,
  source: FeedSource,
  remotePeer: string,
  options: { log?: Logger; signal?: AbortSignal },
): Promise<void> {
  const queue: Array<{ feed: string; seq: number; bytes: Uint8Array }> = [];
  let queued = 0;
  let wake: (() => void) | null = null;
  let closed = false;
  const close = () => {
    closed = true;
    wake?.();
  };
  const unsubscribe = source.onEnvelope((feed, seq, bytes) => {
    if (closed || !queryCovers(query, feed)) return;
    queue.push({ feed, seq, bytes });
    queued += bytes.length;
    if (queued > MAX_PUSH_QUEUE_BYTES) {
      options.log?.warn('sync: subscriber', remotePeer, 'is not keeping up; closing its subscription');
      stream.abort(new SyncFailedError('subscriber too slow'));
      close();
    }
    wake?.();
  });
  stream.addEventListener('close', close);
  options.signal?.addEventListener('abort', close);
  try {
    await lp.write(encodeSyncMessage({ t: 'heads', heads: await source.heads(query, { remotePeer }) }));
    while (!closed) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      // One message per run: consecutive envelopes of one feed travel together (a snapshot
      // that moved the head on leaves a gap: what follows it starts a new run).
      const { feed, seq } = queue[0]!;
      const envelopes: Uint8Array[] = [];
      let bytes = 0;
      while (
        queue.length > 0 &&
        queue[0]!.feed === feed &&
        queue[0]!.seq === seq + envelopes.length &&
        envelopes.length < MAX_PUSH_ENVELOPES &&
        (envelopes.length === 0 || bytes + queue[0]!.bytes.length <= MAX_SYNC_MESSAGE_BYTES - 1024)
      ) {
        const next = queue.shift()!;
        bytes += next.bytes.length;
        envelopes.push(next.bytes);
      }
      queued -= bytes;
      await lp.write(encodeSyncMessage({ t: 'push', feed, run: compactRun(envelopes) }));
    }
  } catch (error) {
    if (!closed) options.log?.debug?.('sync: subscription to', remotePeer, 'ended:', (error as Error)?.message ?? error);
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  } finally {
    closed = true;
    unsubscribe();
    stream.removeEventListener('close', close);
    options.signal?.removeEventListener('abort', close);
  }
}

// ---------------------------------------------------------------------------------------------
// Client

async function request(stream: Stream, message: SyncRequest, signal?: AbortSignal, ms = SYNC_REQUEST_TIMEOUT): Promise<SyncResponse> {
  const timeout = AbortSignal.timeout(ms);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const lp = lpStream(stream, { maxDataLength: MAX_SYNC_MESSAGE_BYTES });
  try {
    await lp.write(encodeSyncMessage(message), { signal: combined });
    let answer: SyncResponse;
    try {
      answer = decodeSyncMessage((await lp.read({ signal: combined })).subarray(), 'response') as SyncResponse;
    } catch (error) {
      signal?.throwIfAborted();
      throw streamError(error, 'answer');
    }
    await stream.close({ signal: combined }).catch(() => {});
    if (answer.t === 'error') throw new SyncRefusedError(answer.code, answer.message);
    return answer;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

export async function requestHeads(stream: Stream, query: FeedQuery, signal?: AbortSignal): Promise<Head[]> {
  const answer = await request(stream, { t: 'heads', ...query }, signal);
  if (answer.t !== 'heads') throw new SyncMalformedMessageError(`expected heads, got ${answer.t}`);
  return answer.heads;
}

export type Batch = Extract<SyncResponse, { t: 'batch' }>;

export async function requestPull(stream: Stream, feed: string, after: number, signal?: AbortSignal, limit = PULL_BATCH_ENVELOPES): Promise<Batch> {
  const answer = await request(stream, { t: 'pull', feed, after, limit }, signal, SYNC_TRANSFER_TIMEOUT);
  if (answer.t !== 'batch' || answer.feed !== feed) throw new SyncMalformedMessageError(`expected a batch of ${feed}`);
  return answer;
}

export async function requestDelegate(stream: Stream, delegation: Uint8Array, signal?: AbortSignal): Promise<void> {
  const answer = await request(stream, { t: 'delegate', delegation }, signal);
  if (answer.t !== 'ok') throw new SyncMalformedMessageError(`expected ok, got ${answer.t}`);
}

export interface SubscriptionHandlers {
  onHeads(heads: Head[]): void | Promise<void>;
  onPush(feed: string, run: EnvelopeRun): void | Promise<void>;
}

/**
 * Subscribes on `stream` and delivers what arrives, in order, until the stream ends; resolves
 * then (or rejects with the named reason). Close the stream (or abort `signal`) to stop.
 */
export async function runSubscription(stream: Stream, query: FeedQuery, handlers: SubscriptionHandlers, signal?: AbortSignal): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_SYNC_MESSAGE_BYTES });
  const onAbort = () => stream.abort(new SyncFailedError('subscription closed'));
  signal?.addEventListener('abort', onAbort);
  try {
    await lp.write(encodeSyncMessage({ t: 'subscribe', ...query }), { signal: AbortSignal.timeout(SYNC_REQUEST_TIMEOUT) });
    let first = true;
    for (;;) {
      let bytes: Uint8Array;
      try {
        bytes = (await lp.read(first ? { signal: AbortSignal.timeout(SYNC_REQUEST_TIMEOUT) } : {})).subarray();
      } catch (error) {
        if (signal?.aborted) return;
        if ((error as Error)?.name === 'UnexpectedEOFError' && !first) return;
        throw streamError(error, first ? 'heads' : 'push');
      }
      const message = decodeSyncMessage(bytes, 'response') as SyncResponse;
      if (message.t === 'error') throw new SyncRefusedError(message.code, message.message);
      if (first) {
        if (message.t !== 'heads') throw new SyncMalformedMessageError(`expected heads first, got ${message.t}`);
        first = false;
        await handlers.onHeads(message.heads);
      } else {
        if (message.t !== 'push') throw new SyncMalformedMessageError(`expected push, got ${message.t}`);
        if (!queryCovers(query, message.feed)) throw new SyncMalformedMessageError(`pushed ${message.feed}, which was not asked for`);
        await handlers.onPush(message.feed, message.run);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
