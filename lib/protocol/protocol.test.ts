import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../util/log.ts';
import {
  PAGE_CHANNEL,
  PROTOCOL_VERSION,
  ProviderErrorCode,
  createPortClient,
  isPageRequestMessage,
  isPortRequest,
  servePort,
  toWireError,
} from './index.ts';
import { portPair } from './test-ports.ts';
import { P2pbError } from '../util/errors.ts';

const pageRequest = { channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'bridge', id: 'a-1', method: 'p2p_getIdentity' };

describe('page messages', () => {
  it('accepts exactly the request shape', () => {
    expect(isPageRequestMessage(pageRequest)).toBe(true);
    expect(isPageRequestMessage({ ...pageRequest, params: { message: 'hi' } })).toBe(true);
  });

  it('refuses a request that claims an origin or any other extra key', () => {
    expect(isPageRequestMessage({ ...pageRequest, origin: 'https://bank.example' })).toBe(false);
    expect(isPageRequestMessage({ ...pageRequest, sender: { origin: 'x' } })).toBe(false);
  });

  it('refuses other versions, directions, and oversized ids or methods', () => {
    expect(isPageRequestMessage({ ...pageRequest, v: PROTOCOL_VERSION + 1 })).toBe(false);
    expect(isPageRequestMessage({ ...pageRequest, to: 'page' })).toBe(false);
    expect(isPageRequestMessage({ ...pageRequest, id: 'x'.repeat(65) })).toBe(false);
    expect(isPageRequestMessage({ ...pageRequest, method: 'm'.repeat(65) })).toBe(false);
    expect(isPageRequestMessage({ ...pageRequest, id: 7 })).toBe(false);
    expect(isPageRequestMessage(null)).toBe(false);
    expect(isPageRequestMessage('p2pb')).toBe(false);
  });

  it('port requests are exact too', () => {
    expect(isPortRequest({ v: PROTOCOL_VERSION, type: 'request', id: '1', method: 'state.get' })).toBe(true);
    expect(isPortRequest({ v: PROTOCOL_VERSION, type: 'request', id: '1', method: 'state.get', origin: 'x' })).toBe(false);
  });
});

describe('errors on the wire', () => {
  it('keeps the code of named errors and hides unknown ones', () => {
    expect(toWireError(new P2pbError('WRONG_PASSPHRASE', 'nope'))).toEqual({ code: 'WRONG_PASSPHRASE', message: 'nope' });
    expect(toWireError(new TypeError('secret detail'))).toEqual({ code: ProviderErrorCode.INTERNAL, message: 'Internal error' });
  });
});

describe('request/response over a port', () => {
  it('answers requests, relays errors with their code, and delivers events', async () => {
    const [client, server] = portPair();
    const log = createMemoryLogger();
    const served = servePort(server, async (method, params) => {
      if (method === 'echo') return params;
      throw new P2pbError('NOPE', 'refused');
    }, log);
    const rpc = createPortClient<{ echo: { params: { x: number }; result: { x: number } }; fail: { params: undefined; result: null } }, { tick: number }>(client);
    const ticks: number[] = [];
    rpc.on('tick', (n) => ticks.push(n));
    await expect(rpc.request('echo', { x: 1 })).resolves.toEqual({ x: 1 });
    await expect(rpc.request('fail')).rejects.toMatchObject({ code: 'NOPE' });
    served.emit('tick', 3);
    await expect(rpc.request('echo', { x: 2 })).resolves.toEqual({ x: 2 });
    expect(ticks).toEqual([3]);
  });

  it('drops and logs unknown messages without answering', async () => {
    const [client, server] = portPair();
    const log = createMemoryLogger();
    const answers: unknown[] = [];
    client.onMessage((m) => answers.push(m));
    servePort(server, async () => 'ok', log);
    client.postMessage({ v: PROTOCOL_VERSION, type: 'mystery', id: '1' });
    client.postMessage({ v: PROTOCOL_VERSION, type: 'request', id: '2', method: 'x' });
    await new Promise<void>((resolve) => client.onMessage(() => resolve()));
    expect(answers).toEqual([{ v: PROTOCOL_VERSION, type: 'response', id: '2', result: 'ok' }]);
    expect(log.lines.some((l) => l.level === 'warn')).toBe(true);
  });

  it('refuses requests beyond the in-flight limit with LIMIT_EXCEEDED', async () => {
    const [client, server] = portPair();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    servePort(server, async () => gate, createMemoryLogger(), { maxInFlight: 2 });
    const rpc = createPortClient<{ wait: { params: undefined; result: null } }, Record<string, never>>(client);
    const first = rpc.request('wait');
    const second = rpc.request('wait');
    await expect(rpc.request('wait')).rejects.toMatchObject({ code: ProviderErrorCode.LIMIT_EXCEEDED });
    release();
    await expect(Promise.all([first, second])).resolves.toEqual([null, null]);
  });

  it('rejects pending requests with DISCONNECTED when the port drops', async () => {
    const [client, server] = portPair();
    servePort(server, () => new Promise(() => {}), createMemoryLogger());
    const rpc = createPortClient<{ hang: { params: undefined; result: null } }, Record<string, never>>(client);
    const pending = rpc.request('hang');
    server.disconnect();
    await expect(pending).rejects.toMatchObject({ code: ProviderErrorCode.DISCONNECTED });
    expect(rpc.closed).toBe(true);
  });
});
