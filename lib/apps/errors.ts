import { P2pbError } from '../util/errors.ts';

/** An app's manifest.json is not what docs/apps.md describes (the build stops on it). */
export class InvalidAppManifestError extends P2pbError {
  constructor(message: string) {
    super('INVALID_APP_MANIFEST', message);
  }
}

/** No app with this id ships in the extension. */
export class UnknownAppError extends P2pbError {
  constructor(id: string) {
    super('UNKNOWN_APP', `No app "${id.slice(0, 64)}" in this extension`);
  }
}
