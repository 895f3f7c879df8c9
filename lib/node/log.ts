/**
 * Log lines of the always-on node: ISO timestamp, level, the logger's [p2pb:name] prefix, text.
 *
 *     2025-06-01T12:00:00.000Z INFO  [p2pb:node] network started …
 */
import { formatWithOptions } from 'node:util';
import type { Writable } from 'node:stream';
import { createLogger } from '../util/log.ts';
import type { Logger } from '../util/log.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSinkOptions {
  /** Lines below this level are dropped (default info). */
  level?: LogLevel;
  /** Where lines go (default process.stderr). */
  stream?: Pick<Writable, 'write'>;
  now?: () => Date;
}

export type LogSink = Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;

/** A console-like sink that writes timestamped lines (the createLogger prefix stays first in the text). */
export function createLogSink(options: LogSinkOptions = {}): LogSink {
  const threshold = LEVELS[options.level ?? 'info'];
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const line = (level: LogLevel) => (...args: unknown[]) => {
    if (LEVELS[level] < threshold) return;
    const text = formatWithOptions({ colors: false, depth: 4, breakLength: Infinity }, ...args);
    stream.write(`${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}\n`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** A sink that drops everything (tests that do not look at logs). */
export const silentSink: LogSink = { debug() {}, info() {}, warn() {}, error() {} };

export function nodeLogger(name: string, sink: LogSink): Logger {
  return createLogger(name, sink);
}
