import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { TorrentEdgeError } from '../errors.ts';
import { createFileOrigin } from './fileOrigin.ts';
import { createHttpOrigin } from './httpOrigin.ts';
import { createMagnetOrigin } from './magnetOrigin.ts';
import type { Origin } from './origin.ts';

/** What a worker's origins need beyond the source itself. */
export interface OriginSettings {
  s3: Config['s3'];
  /** The only directories a push may read (TORRENTEDGE_PUSH_ROOTS). */
  pushRoots: readonly string[];
  /** Where a magnet's pieces are joined before they are re-chunked. */
  stagingDir: string;
  logger: Logger;
}

type Source = { kind: string; url?: string; path?: string; bucket?: string; key?: string; magnetURI?: string; nodeId?: string };

/**
 * The origin of a transfer's source, as the manifest route describes it. The AWS SDK is loaded
 * only for an S3 source: it is the largest package a worker would otherwise keep in its heap
 * (about 4 MiB), and most workers never seed from S3.
 */
export async function originFor(source: Source, settings: OriginSettings): Promise<Origin> {
  if (source.kind === 'url' && source.url !== undefined) return createHttpOrigin(source.url);
  if (source.kind === 'push' && source.path !== undefined) return createFileOrigin(source.path, { allowedRoots: settings.pushRoots });
  if (source.kind === 's3' && source.bucket !== undefined && source.key !== undefined) {
    const { createS3Origin } = await import('./s3Origin.ts');
    return createS3Origin({ bucket: source.bucket, key: source.key }, settings.s3);
  }
  if (source.kind === 'magnet' && source.magnetURI !== undefined) {
    return createMagnetOrigin(source.magnetURI, { stagingDir: settings.stagingDir, logger: settings.logger });
  }
  throw new TorrentEdgeError('TE_ERR_VALIDATION', `a seed cannot read a ${source.kind} source`);
}
