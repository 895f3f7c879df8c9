/** Test helpers: assert that an action fails with a named error (P2pbError) and its code. */
import { expect } from 'vitest';
import { P2pbError } from './errors.ts';

/** Runs `action` and returns the P2pbError it threw (fails the test if it did not throw one). */
export async function caught(action: () => Promise<unknown> | unknown): Promise<P2pbError> {
  let error: unknown;
  try {
    await action();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a P2pbError').toBeInstanceOf(P2pbError);
  return error as P2pbError;
}

/** Runs `action` and checks it threw a P2pbError with `code`; returns the error. */
export async function expectCode(action: () => Promise<unknown> | unknown, code: string): Promise<P2pbError> {
  const error = await caught(action);
  expect(error.code, error.message).toBe(code);
  return error;
}
