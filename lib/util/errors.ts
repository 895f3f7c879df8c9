/**
 * Base of every named error in the project. Errors cross context boundaries as
 * `{ code, message }` (see lib/protocol); tests assert on `code`, never on prose.
 */
export class P2pbError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a P2pbError with the given code (works across module copies). */
export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
