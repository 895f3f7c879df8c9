import { P2pbError } from '../util/errors.ts';

export class UnknownPromptError extends P2pbError {
  constructor(id: string) {
    super('UNKNOWN_PROMPT', `No pending prompt ${id.slice(0, 64)}`);
  }
}

export class UnknownGrantError extends P2pbError {
  constructor(origin: string) {
    super('UNKNOWN_GRANT', `No grant for ${origin.slice(0, 200)}`);
  }
}

export class InvalidParamsError extends P2pbError {
  constructor(message: string) {
    super('INVALID_PARAMS', message);
  }
}

export class UnsupportedStoredVersionError extends P2pbError {
  constructor(what: string, version: unknown) {
    super('UNSUPPORTED_STORED_VERSION', `Stored ${what} has version ${String(version)}, newer than this code knows`);
  }
}

export class ForbiddenContextError extends P2pbError {
  constructor(context: string) {
    super('FORBIDDEN_CONTEXT', `The engine may not sign in context ${context.slice(0, 100)}`);
  }
}
