/** A named logger; every context prefixes its lines so mixed console output stays readable. */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export function createLogger(name: string, sink: Pick<Console, 'debug' | 'info' | 'warn' | 'error'> = console): Logger {
  const prefix = `[p2pb:${name}]`;
  return {
    debug: (...args) => sink.debug(prefix, ...args),
    info: (...args) => sink.info(prefix, ...args),
    warn: (...args) => sink.warn(prefix, ...args),
    error: (...args) => sink.error(prefix, ...args),
  };
}

/** A logger that records instead of printing: for tests that assert something was logged. */
export function createMemoryLogger(): Logger & { lines: { level: string; args: unknown[] }[] } {
  const lines: { level: string; args: unknown[] }[] = [];
  const at = (level: string) => (...args: unknown[]) => void lines.push({ level, args });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
