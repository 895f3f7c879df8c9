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

/** Bytes that are not an app package: not strict CBOR, wrong shape, a bad or repeated path. */
export class InvalidAppPackageError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_APP_PACKAGE', message, options);
  }
}

/** A package (or one of its files, or the number of files) over its limit. */
export class AppPackageTooLargeError extends P2pbError {
  constructor(message: string) {
    super('APP_PACKAGE_TOO_LARGE', message);
  }
}

/**
 * A published app whose parts do not agree: chunks that do not hash to what the signed header
 * says, a package for another app id than the feed it is in, a header version that is not the
 * manifest's. Tampered, copied from someone else, or not fully received.
 */
export class AppPackageMismatchError extends P2pbError {
  constructor(message: string) {
    super('APP_PACKAGE_MISMATCH', message);
  }
}

/** The author has published no app under this id (the feed is missing or empty). */
export class AppNotPublishedError extends P2pbError {
  constructor(author: string, id: string) {
    super('APP_NOT_PUBLISHED', `No app "${id.slice(0, 64)}" published by ${author.slice(0, 60)}`);
  }
}

/** A web+p2p:app link that is not `web+p2p:app/<author key>/<app id>`. */
export class InvalidAppLinkError extends P2pbError {
  constructor(message: string) {
    super('INVALID_APP_LINK', message);
  }
}
