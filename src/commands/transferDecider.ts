import type { TransferEvent, TransferRequested } from '../events/transferEvents.ts';
import { assertNever, reject, type Decider, type Decision } from './decider.ts';

export type TransferStatus = 'requested' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

export interface TransferManifest {
  totalBytes: number;
  pieceLength: number;
  pieceCount: number;
}

export type TransferState =
  | { status: 'none' }
  | { status: TransferStatus; transferId: string; manifest: TransferManifest | null };

export type TransferCommand =
  | { type: 'RequestTransfer'; data: TransferRequested['data'] & { autoStart: boolean } }
  | { type: 'PublishManifest'; data: TransferManifest & { transferId: string } }
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
  const verb = command.type === 'PublishManifest' ? 'publish the manifest of' : command.type.replace('Transfer', '').toLowerCase();
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

function publishManifest(command: Extract<TransferCommand, { type: 'PublishManifest' }>, state: TransferState): Decision<TransferEvent> {
  if (state.status === 'none' || isTerminalTransferStatus(state.status)) return illegal(command, state);
  const { transferId, totalBytes, pieceLength, pieceCount } = command.data;
  if (state.manifest !== null) {
    const same =
      state.manifest.totalBytes === totalBytes &&
      state.manifest.pieceLength === pieceLength &&
      state.manifest.pieceCount === pieceCount;
    return same ? [] : reject('TE_ERR_MANIFEST_CONFLICT', `transfer ${transferId} already has a different manifest`);
  }
  if (!Number.isSafeInteger(totalBytes) || totalBytes <= 0) {
    return reject('TE_ERR_VALIDATION', `a manifest needs a positive whole number of bytes, not ${totalBytes}`);
  }
  // BitTorrent pieces are a power of two of at least 16 KiB.
  if (!Number.isSafeInteger(pieceLength) || pieceLength < 1 || (pieceLength & (pieceLength - 1)) !== 0) {
    return reject('TE_ERR_VALIDATION', `piece length must be a power of two, not ${pieceLength}`);
  }
  if (pieceCount !== Math.ceil(totalBytes / pieceLength)) {
    return reject('TE_ERR_VALIDATION', `a manifest of ${totalBytes} bytes in ${pieceLength}-byte pieces has ${Math.ceil(totalBytes / pieceLength)} pieces, not ${pieceCount}`);
  }
  return [{ type: 'ManifestPublished', data: { transferId, totalBytes, pieceLength, pieceCount } }];
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
      return publishManifest(command, state);
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
    return { status: 'requested', transferId: event.data.transferId, manifest: null };
  }
  if (state.status === 'none') return state; // events before creation cannot exist; ignore defensively
  switch (event.type) {
    case 'ManifestPublished': {
      const { totalBytes, pieceLength, pieceCount } = event.data;
      return { ...state, manifest: { totalBytes, pieceLength, pieceCount } };
    }
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
