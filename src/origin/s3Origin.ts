import { GetObjectCommand, HeadObjectCommand, paginateListObjectsV2, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { artifactPathProblem } from '../commands/artifactPath.ts';
import type { Config } from '../config.ts';
import { TorrentEdgeError } from '../errors.ts';
import type { Origin } from './origin.ts';
import { RangeInterrupted, readResumably } from './resumableRange.ts';
import { fromS3Error } from './s3Errors.ts';

export type S3Settings = Config['s3'];

export interface S3OriginOptions {
  /** Fixed credentials instead of the SDK's default provider chain (tests, embedders). */
  credentials?: S3ClientConfig['credentials'];
  /** Keys per ListObjectsV2 page; S3's default and maximum is 1000. */
  listPageSize?: number;
  /** How long a read's connection may go without a byte before it is given up and the rest read on another (default 10 s). */
  stallMs?: number;
}

/**
 * A connection gone silent mid-body (the peer gone without a reset) would otherwise hold its
 * read until TCP gave up, many minutes later: the SDK sets no socket timeout of its own.
 */
const defaultStallMs = 10_000;

/** Connections a range's body may fail on without bringing 64 KiB (resumableRange.ts) before the read fails. */
const bodyAttempts = 5;

interface S3Object {
  key: string;
  path: string;
  length: number;
  /** Pinned on every range read, so that a replaced object fails the read instead of mixing versions. */
  etag: string | undefined;
  versionId: string | undefined;
}

const byteOrder = (a: S3Object, b: S3Object): number => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

/** A listing can hold both `a` and `a/b`, which no directory can: refuse it before any node tries. */
function fileUnderFile(objects: readonly S3Object[]): string | undefined {
  const paths = new Set(objects.map((object) => object.path));
  for (const { path } of objects) {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      if (paths.has(path.slice(0, slash))) return path;
    }
  }
  return undefined;
}

/**
 * One S3 object, or with a key ending in `/` every object under that prefix (a sharded
 * checkpoint: model/shard-00001-of-00004.safetensors …), as files named by their keys relative
 * to the prefix in byte order. Reads are ranged GETs pinned to the ETag (and version) seen by
 * describe().
 */
export function createS3Origin(location: { bucket: string; key: string }, settings: S3Settings, options: S3OriginOptions = {}): Origin {
  const { bucket, key } = location;
  const url = `s3://${bucket}/${key}`;
  const client = new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    // A bucket outside settings.region answers 301; follow it instead of failing the seed.
    followRegionRedirects: true,
    requestHandler: { socketTimeout: options.stallMs ?? defaultStallMs },
  });
  let objects: S3Object[] | undefined;
  // close() ends the reads in flight: a drained or fenced seed job does not wait for them.
  const closed = new AbortController();

  const checked = (object: S3Object): S3Object => {
    const problem = artifactPathProblem(object.path);
    if (problem !== undefined) throw new TorrentEdgeError('TE_ERR_VALIDATION', `cannot seed s3://${bucket}/${object.key}: its path "${object.path}" ${problem}`);
    return object;
  };

  async function headObject(): Promise<S3Object[]> {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const length = head.ContentLength;
    if (length === undefined) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `${url} has no Content-Length`);
    return [checked({ key, path: key.slice(key.lastIndexOf('/') + 1), length, etag: head.ETag, versionId: head.VersionId })];
  }

  async function listPrefix(): Promise<S3Object[]> {
    const found: S3Object[] = [];
    const pages = paginateListObjectsV2({ client, ...(options.listPageSize !== undefined ? { pageSize: options.listPageSize } : {}) }, { Bucket: bucket, Prefix: key });
    for await (const page of pages) {
      for (const { Key: objectKey, Size: length, ETag: etag } of page.Contents ?? []) {
        if (objectKey === undefined || length === undefined) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `listing ${url} gave an entry without a key or size`);
        // Consoles create empty `folder/` objects; they are no file. A non-empty one fails the path check.
        if (objectKey.endsWith('/') && length === 0) continue;
        found.push(checked({ key: objectKey, path: objectKey.slice(key.length), length, etag, versionId: undefined }));
      }
    }
    if (found.length === 0) throw new TorrentEdgeError('TE_ERR_NOT_FOUND', `${url} holds no objects`);
    // S3 lists in UTF-8 byte order already; compatible servers need not, and the manifest must not vary.
    found.sort(byteOrder);
    const clash = fileUnderFile(found);
    if (clash !== undefined) throw new TorrentEdgeError('TE_ERR_VALIDATION', `cannot seed ${url}: ${clash} lies under a path that is itself an object`);
    return found;
  }

  return {
    async describe() {
      try {
        objects = key.endsWith('/') ? await listPrefix() : await headObject();
      } catch (error) {
        throw fromS3Error(error, `describing ${url}`);
      }
      return { files: objects.map(({ path, length, etag, versionId }) => ({ path, length, ...(versionId ?? etag ? { version: (versionId ?? etag)!.slice(0, 256) } : {}) })) };
    },

    async read(fileIndex, offset, length) {
      if (objects === undefined) throw new Error('describe() the S3 origin before reading it');
      const object = objects[fileIndex];
      if (object === undefined) throw new RangeError(`${url} has ${objects.length} files, not ${fileIndex + 1}`);
      if (!(offset >= 0 && length >= 0 && offset + length <= object.length)) throw new RangeError(`[${offset}, ${offset + length}) lies outside s3://${bucket}/${object.key} (${object.length} bytes)`);
      if (length === 0) return Buffer.alloc(0);
      const what = `reading bytes ${offset}-${offset + length - 1} of s3://${bucket}/${object.key}`;
      // The SDK retries a GET that fails before its body; one that breaks or goes silent in the
      // body is resumed where it stopped (resumableRange.ts).
      const fill = async (into: Buffer, held: number): Promise<void> => {
        const response = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: object.key, Range: `bytes=${offset + held}-${offset + length - 1}`, IfMatch: object.etag, VersionId: object.versionId }),
          { abortSignal: closed.signal },
        );
        if (response.Body === undefined) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `${what}: S3 sent no body`);
        // Without an ETag to pin, the total in Content-Range is the last guard against a replaced object.
        const total = /\/(\d+)$/.exec(response.ContentRange ?? '')?.[1];
        if (total !== undefined && Number(total) !== object.length) throw new TorrentEdgeError('TE_ERR_MANIFEST_CONFLICT', `${what}: the object is now ${total} bytes, not ${object.length}`);
        let received = held;
        try {
          for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
            if (received + chunk.byteLength > length) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `${what}: S3 sent more than the range`);
            into.set(chunk, received);
            received += chunk.byteLength;
          }
        } catch (error) {
          throw error instanceof TorrentEdgeError ? error : new RangeInterrupted(received, error);
        }
        if (received !== length) throw new TorrentEdgeError('TE_ERR_UNAVAILABLE', `${what}: S3 sent ${received - held} bytes of ${length - held}`);
      };
      try {
        return await readResumably(length, fill, { attempts: bodyAttempts, signal: closed.signal });
      } catch (error) {
        throw fromS3Error(error, what);
      }
    },

    async close() {
      closed.abort(new TorrentEdgeError('TE_ERR_UNAVAILABLE', `the origin ${url} is closed`));
      client.destroy();
    },
  };
}
