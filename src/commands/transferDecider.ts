import type { ArtifactFile, TransferEvent, TransferRequested } from '../events/transferEvents.ts';
import { assertNever, reject, type Decider, type Decision } from './decider.ts';
import {
  decideCompleteManifest,
  decidePublishManifest,
  decidePublishSegment,
  evolveManifest,
  type ManifestLayout,
  type ManifestSegment,
  type SegmentTorrentFacts,
  type TransferManifest,
} from './manifestDecisions.ts';

export type { TransferManifest } from './manifestDecisions.ts';

export type TransferStatus = 'requested' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

export type TransferState =
  | { status: 'none' }
  | { status: TransferStatus; transferId: string; manifest: TransferManifest | null; request: TransferRequested['data'] };

export type TransferCommand =
  | { type: 'RequestTransfer'; data: TransferRequested['data'] & { autoStart: boolean } }
  | { type: 'PublishManifest'; data: ManifestLayout & { transferId: string } }
  | {
      type: 'PublishManifestSegment';
      data: ManifestSegment & { transferId: string; segmentIndex: number; torrent: SegmentTorrentFacts };
    }
  | { type: 'CompleteManifest'; data: { transferId: string; files: Array<ArtifactFile & { sha256: string }> } }
  | { type: 'StartTransfer'; data: { transferId: string } }
  | { type: 'PauseTransfer'; data: { transferId: string } }
  | { type: 'ResumeTransfer'; data: { transferId: string } }
  | { type: 'CancelTransfer'; data: { transferId: string; reason: string | null } }
  | { type: 'CompleteTransfer'; data: { transferId: string } }
  | { type: 'FailTransfer'; data: { transferId: string; reason: string } };

const terminal: ReadonlySet<TransferStatus> = new Set(['completed', 'failed', 'cancelled']);

export const isTerminalTransferStatus = (status: TransferState['status']): boolean =>
  status !== 'none' && terminal.has(status);

function illegal(command: TransferCommand, state: TransferState): Decision<TransferEvent> {
  if (state.status === 'none') {
    return reject('TE_ERR_TRANSFER_NOT_FOUND', `transfer ${command.data.transferId} does not exist`);
  }
  const verb = command.type.includes('Manifest') ? 'change the manifest of' : command.type.replace('Transfer', '').toLowerCase();
  return reject('TE_ERR_ILLEGAL_TRANSITION', `cannot ${verb} transfer ${command.data.transferId}: it is ${state.status}`);
}

function requestTransfer(command: Extract<TransferCommand, { type: 'RequestTransfer' }>, state: TransferState): Decision<TransferEvent> {
  if (state.status !== 'none') {
    return reject('TE_ERR_TRANSFER_EXISTS', `transfer ${command.data.transferId} already exists`);
  }
  const { autoStart, ...requested } = command.data;
  const events: TransferEvent[] = [{ type: 'TransferRequested', data: requested }];
  if (autoStart) events.push({ type: 'TransferStarted', data: { transferId: requested.transferId } });
  return events;
}

/** The manifest grows while the transfer has not ended: layout first, then segments, then file digests. */
function manifestStep(
  command: Extract<TransferCommand, { type: 'PublishManifest' | 'PublishManifestSegment' | 'CompleteManifest' }>,
  state: TransferState,
): Decision<TransferEvent> {
  if (state.status === 'none' || isTerminalTransferStatus(state.status)) return illegal(command, state);
  const { transferId } = command.data;
  switch (command.type) {
    case 'PublishManifest':
      return decidePublishManifest(transferId, command.data, state.manifest);
    case 'PublishManifestSegment':
      return decidePublishSegment(transferId, command.data, state.manifest);
    case 'CompleteManifest':
      return decideCompleteManifest(transferId, command.data.files, state.manifest);
    default:
      return assertNever(command);
  }
}

/** A lifecycle step allowed only from some statuses. */
function transition(
  command: TransferCommand,
  state: TransferState,
  from: readonly TransferStatus[],
  event: TransferEvent,
): Decision<TransferEvent> {
  if (state.status === 'none' || !from.includes(state.status)) return illegal(command, state);
  return [event];
}

export function decideTransfer(command: TransferCommand, state: TransferState): Decision<TransferEvent> {
  const { transferId } = command.data;
  switch (command.type) {
    case 'RequestTransfer':
      return requestTransfer(command, state);
    case 'PublishManifest':
    case 'PublishManifestSegment':
    case 'CompleteManifest':
      return manifestStep(command, state);
    case 'StartTransfer':
      return transition(command, state, ['requested'], { type: 'TransferStarted', data: { transferId } });
    case 'PauseTransfer':
      return transition(command, state, ['running'], { type: 'TransferPaused', data: { transferId } });
    case 'ResumeTransfer':
      return transition(command, state, ['paused'], { type: 'TransferResumed', data: { transferId } });
    case 'CancelTransfer':
      return transition(command, state, ['requested', 'running', 'paused'], {
        type: 'TransferCancelled',
        data: { transferId, reason: command.data.reason },
      });
    case 'CompleteTransfer':
      return transition(command, state, ['running'], { type: 'TransferCompleted', data: { transferId } });
    case 'FailTransfer':
      return transition(command, state, ['requested', 'running', 'paused'], {
        type: 'TransferFailed',
        data: { transferId, reason: command.data.reason },
      });
    default:
      return assertNever(command);
  }
}

export function evolveTransfer(state: TransferState, event: TransferEvent): TransferState {
  if (event.type === 'TransferRequested') {
    return { status: 'requested', transferId: event.data.transferId, manifest: null, request: event.data };
  }
  if (state.status === 'none') return state; // events before creation cannot exist; ignore defensively
  switch (event.type) {
    case 'ManifestPublished':
    case 'ManifestSegmentPublished':
    case 'ManifestCompleted':
      return { ...state, manifest: evolveManifest(state.manifest, event) };
    case 'TransferStarted':
    case 'TransferResumed':
      return { ...state, status: 'running' };
    case 'TransferPaused':
      return { ...state, status: 'paused' };
    case 'TransferCancelled':
      return { ...state, status: 'cancelled' };
    case 'TransferCompleted':
      return { ...state, status: 'completed' };
    case 'TransferFailed':
      return { ...state, status: 'failed' };
    default:
      return assertNever(event);
  }
}

export const transferDecider: Decider<TransferCommand, TransferState, TransferEvent> = {
  decide: decideTransfer,
  evolve: evolveTransfer,
  initialState: () => ({ status: 'none' }),
};
