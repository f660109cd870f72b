/**
 * Errors of the content-addressable store. They are plain Error subclasses rather than
 * TorrentEdgeErrors because their codes are not in the registry yet; the lead maps them
 * (e.g. a digest mismatch is a peer or origin fault, not a client's bad request).
 */

/** Bytes offered for a chunk do not hash to the digest they were offered under; nothing was stored. */
export class ChunkDigestMismatchError extends Error {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string) {
    super(`chunk bytes hash to sha256 ${actual}, expected ${expected}; nothing was stored`);
    this.name = 'ChunkDigestMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

/** A file rebuilt from verified chunks does not match its whole-file digest from the manifest. */
export class FileDigestMismatchError extends Error {
  readonly path: string;
  readonly expected: string;
  readonly actual: string;

  constructor(path: string, expected: string, actual: string) {
    super(`file ${JSON.stringify(path)} rebuilt from its chunks hashes to sha256 ${actual}, expected ${expected}`);
    this.name = 'FileDigestMismatchError';
    this.path = path;
    this.expected = expected;
    this.actual = actual;
  }
}

export class ChunkNotFoundError extends Error {
  readonly sha256: string;

  constructor(sha256: string) {
    super(`chunk ${sha256} is not in the content store`);
    this.name = 'ChunkNotFoundError';
    this.sha256 = sha256;
  }
}

/** A path from a manifest (or a target derived from it) that could escape its root. */
export class UnsafePathError extends Error {
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`unsafe path ${JSON.stringify(path)}: ${reason}`);
    this.name = 'UnsafePathError';
    this.path = path;
  }
}

/** Materializing would replace something this store did not create. */
export class MaterializeConflictError extends Error {
  readonly target: string;

  constructor(target: string, reason: string) {
    super(`cannot materialize at ${target}: ${reason}`);
    this.name = 'MaterializeConflictError';
    this.target = target;
  }
}
