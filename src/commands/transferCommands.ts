import { randomUUID } from 'node:crypto';
import { TorrentEdgeError } from '../errors.ts';
import type { TransferSource, TransferTargets } from '../events/transferEvents.ts';
import { transferStreamId } from '../events/transferEvents.ts';
import type { CommandContext } from '../events/metadata.ts';
import { fingerprintOf, handleCommand, type CommandDeps, type CommandResult } from './handleCommand.ts';
import { parseMagnetUri } from './magnetUri.ts';
import { transferDecider, type TransferCommand, type TransferState } from './transferDecider.ts';
import type { ArtifactFile } from '../events/transferEvents.ts';
import { summarizeSegmentInfo } from './segmentInfo.ts';
import { loadStreamState } from './streamStateCache.ts';
import type { TransferEvent } from '../events/transferEvents.ts';

/** A manifest as published; a single-file artifact in one segment may leave out the last two. */
export interface ManifestInput {
  totalBytes: number;
  pieceLength: number;
  pieceCount: number;
  segmentPieces?: number;
  files?: ArtifactFile[];
}

/** What a caller asks for; exactly one of `magnetURI` and `source`. */
export interface CreateTransferInput {
  magnetURI?: string;
  source?: { url: string };
  name?: string;
  autoStart?: boolean;
  targets?: TransferTargets;
  destination?: string;
  /** The node that seeds: required for a file:// source (`torrentedge push`), which only that node can read. */
  seedNode?: string;
}

export interface TransferCommandResult {
  id: string;
  status: string;
  requestId: string;
}

export type TransferLifecycleAction = 'start' | 'pause' | 'resume' | 'cancel' | 'complete' | 'fail';

const lifecycleCommandType = {
  start: 'StartTransfer',
  pause: 'PauseTransfer',
  resume: 'ResumeTransfer',
  cancel: 'CancelTransfer',
  complete: 'CompleteTransfer',
  fail: 'FailTransfer',
} as const;

export function resolveSource(input: CreateTransferInput): TransferSource {
  if ((input.magnetURI === undefined) === (input.source === undefined)) {
    throw new TorrentEdgeError('TE_ERR_VALIDATION', 'give exactly one of "magnetURI" and "source"');
  }
  if (input.magnetURI !== undefined) {
    const { infoHash } = parseMagnetUri(input.magnetURI);
    return { kind: 'magnet', magnetURI: input.magnetURI, infoHash };
  }
  const url = input.source!.url;
  if (url.startsWith('file:')) {
    if (input.seedNode === undefined) throw new TorrentEdgeError('TE_ERR_VALIDATION', 'a file:// source needs "seedNode", the node that holds the path');
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    // URL parsing resolves dot segments; a host would name another machine's file.
    if (parsed === undefined || parsed.host !== '') throw new TorrentEdgeError('TE_ERR_VALIDATION', `file:// sources are local absolute paths (file:///…), not ${url}`);
    const path = decodeURIComponent(parsed.pathname);
    return { kind: 'push', nodeId: input.seedNode, path };
  }
  if (input.seedNode !== undefined) throw new TorrentEdgeError('TE_ERR_VALIDATION', '"seedNode" is only for file:// sources; other origins are read by the assigned seed');
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(url);
  if (s3 !== null) return { kind: 's3', bucket: s3[1]!, key: s3[2]! };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TorrentEdgeError('TE_ERR_VALIDATION', `source.url "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TorrentEdgeError('TE_ERR_VALIDATION', `source.url must be https://, http://, s3://bucket/key or file:// (with seedNode), not ${parsed.protocol}`);
  }
  return { kind: 'url', url: parsed.href };
}

function defaultName(input: CreateTransferInput, source: TransferSource): string | null {
  if (input.name !== undefined) return input.name;
  if (source.kind === 'magnet') return parseMagnetUri(source.magnetURI).displayName;
  const path = source.kind === 'url' ? new URL(source.url).pathname : source.kind === 'push' ? source.path : source.key;
  return path.split('/').filter(Boolean).pop() ?? null;
}

function resultOf(requestId: string) {
  return (state: TransferState): TransferCommandResult => {
    if (state.status === 'none') throw new Error('a transfer command left no transfer');
    return { id: state.transferId, status: state.status, requestId };
  };
}

/** The transfer commands: each validates its input, then runs through handleCommand. */
export function createTransferCommands(deps: CommandDeps & { newTransferId?: () => string }) {
  const run = (
    transferId: string,
    command: TransferCommand,
    intent: unknown,
    context: CommandContext,
    options: { newStream?: boolean } = {},
  ): Promise<CommandResult<TransferState, TransferCommandResult>> =>
    handleCommand(
      deps,
      transferDecider,
      transferStreamId(transferId),
      command,
      { ...context, fingerprint: fingerprintOf(intent) },
      resultOf(context.requestId),
      options,
    );

  return {
    /**
     * The transfer as its stream says, at most `maxStalenessMs` old: the manifest route serves
     * every node's polling from here, so a fleet's reads cost one stream read per interval.
     */
    async currentState(transferId: string, maxStalenessMs = 250): Promise<TransferState> {
      return (await this.currentStream(transferId, maxStalenessMs)).state;
    },

    /** The state with the stream revision it was folded to (an ETag for pollers). */
    async currentStream(transferId: string, maxStalenessMs = 250): Promise<{ revision: number; state: TransferState }> {
      return loadStreamState<TransferState, TransferEvent>(deps.eventLog, deps.cache, transferDecider, transferStreamId(transferId), { maxStalenessMs });
    },

    async createTransfer(input: CreateTransferInput, context: CommandContext) {
      const source = resolveSource(input);
      const transferId = (deps.newTransferId ?? randomUUID)();
      const command: TransferCommand = {
        type: 'RequestTransfer',
        data: {
          transferId,
          name: defaultName(input, source),
          source,
          targets: input.targets ?? { kind: 'all' },
          destination: input.destination ?? null,
          autoStart: input.autoStart ?? false,
        },
      };
      // The intent is the caller's input, not the generated id: a retry generates another id.
      return run(transferId, command, { command: 'createTransfer', input }, context, { newStream: deps.newTransferId === undefined });
    },

    async changeLifecycle(
      transferId: string,
      action: TransferLifecycleAction,
      context: CommandContext,
      reason: string | null = null,
    ) {
      const type = lifecycleCommandType[action];
      const command =
        type === 'CancelTransfer'
          ? ({ type, data: { transferId, reason } } as const)
          : type === 'FailTransfer'
            ? ({ type, data: { transferId, reason: reason ?? 'unspecified' } } as const)
            : ({ type, data: { transferId } } as const);
      return run(transferId, command, { command: action, transferId, reason }, context);
    },

    async publishManifest(transferId: string, manifest: ManifestInput, context: CommandContext) {
      const { totalBytes, pieceLength, pieceCount } = manifest;
      const layout = {
        totalBytes,
        pieceLength,
        pieceCount,
        segmentPieces: manifest.segmentPieces ?? pieceCount,
        files: manifest.files ?? [{ path: 'artifact', length: totalBytes }],
      };
      const command: TransferCommand = { type: 'PublishManifest', data: { transferId, ...layout } };
      return run(transferId, command, { command: 'publishManifest', transferId, manifest }, context);
    },

    /** One segment's torrent info and piece SHA-256s; the info hash is computed from the info given. */
    async publishSegment(transferId: string, segmentIndex: number, segment: { info: string; pieceSha256: string[] }, context: CommandContext) {
      const { infoHash, ...torrent } = summarizeSegmentInfo(segment.info);
      const command: TransferCommand = {
        type: 'PublishManifestSegment',
        data: { transferId, segmentIndex, infoHash, info: segment.info, pieceSha256: segment.pieceSha256, torrent },
      };
      return run(transferId, command, { command: 'publishSegment', transferId, segmentIndex, segment }, context);
    },

    async completeManifest(transferId: string, files: Array<ArtifactFile & { sha256: string }>, context: CommandContext) {
      const command: TransferCommand = { type: 'CompleteManifest', data: { transferId, files } };
      return run(transferId, command, { command: 'completeManifest', transferId, files }, context);
    },
  };
}

export type TransferCommands = ReturnType<typeof createTransferCommands>;
