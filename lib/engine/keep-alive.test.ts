import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../util/log.ts';
import { KEEP_ALIVE_INTERVAL, KeepAlive } from './keep-alive.ts';

describe('KeepAlive', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(ping: () => Promise<unknown> = async () => {}) {
    let joined = 0;
    const log = createMemoryLogger();
    const pings = vi.fn(ping);
    const keepAlive = new KeepAlive({}, { active: () => joined > 0, ping: pings, log });
    return {
      keepAlive,
      pings,
      log,
      join() {
        joined++;
        keepAlive.update();
      },
      leave() {
        joined--;
        keepAlive.update();
      },
      leaveSilently() {
        joined--;
      },
    };
  }

  it('pings at once and then every interval while a network is joined', async () => {
    const t = setup();
    t.join();
    expect(t.keepAlive.holding).toBe(true);
    expect(t.pings).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3 * KEEP_ALIVE_INTERVAL);
    expect(t.pings).toHaveBeenCalledTimes(4);
  });

  it('does not ping while no network is joined', async () => {
    const t = setup();
    t.keepAlive.update();
    await vi.advanceTimersByTimeAsync(10 * KEEP_ALIVE_INTERVAL);
    expect(t.pings).not.toHaveBeenCalled();
    expect(t.keepAlive.holding).toBe(false);
  });

  it('stops pinging when the last network is left, and starts again on the next join', async () => {
    const t = setup();
    t.join();
    t.join();
    t.leave();
    await vi.advanceTimersByTimeAsync(KEEP_ALIVE_INTERVAL);
    expect(t.pings).toHaveBeenCalledTimes(2);
    t.leave();
    expect(t.keepAlive.holding).toBe(false);
    await vi.advanceTimersByTimeAsync(10 * KEEP_ALIVE_INTERVAL);
    expect(t.pings).toHaveBeenCalledTimes(2);
    t.join();
    expect(t.pings).toHaveBeenCalledTimes(3);
  });

  it('stops at the next tick when the networks went away without an update', async () => {
    const t = setup();
    t.join();
    t.leaveSilently();
    await vi.advanceTimersByTimeAsync(KEEP_ALIVE_INTERVAL);
    expect(t.keepAlive.holding).toBe(false);
    expect(t.pings).toHaveBeenCalledTimes(1);
  });

  it('keeps pinging after a failed ping, and warns once per run of failures', async () => {
    let fail = true;
    const t = setup(async () => {
      if (fail) throw new Error('context invalidated');
    });
    t.join();
    await vi.advanceTimersByTimeAsync(2 * KEEP_ALIVE_INTERVAL);
    expect(t.pings).toHaveBeenCalledTimes(3);
    expect(t.log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    fail = false;
    await vi.advanceTimersByTimeAsync(KEEP_ALIVE_INTERVAL);
    fail = true;
    await vi.advanceTimersByTimeAsync(KEEP_ALIVE_INTERVAL);
    expect(t.log.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('stop() ends holding even while networks are joined', async () => {
    const t = setup();
    t.join();
    t.keepAlive.stop();
    await vi.advanceTimersByTimeAsync(10 * KEEP_ALIVE_INTERVAL);
    expect(t.pings).toHaveBeenCalledTimes(1);
  });
});
