import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isTerminalTransferStatus, transferDecider, type TransferCommand, type TransferStatus } from '../../src/commands/transferDecider.ts';
import type { TransferEvent, TransferRequested } from '../../src/events/transferEvents.ts';
import { given } from '../helpers/given.ts';

const transferId = 't-1';

const requestedData: TransferRequested['data'] = {
  transferId,
  name: 'llama3-70b-checkpoint.safetensors',
  source: {
    kind: 'magnet',
    magnetURI: 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567',
    infoHash: '0123456789abcdef0123456789abcdef01234567',
  },
  targets: { kind: 'nodes', nodeIds: ['n-1', 'n-2'] },
  destination: '/srv/models',
};

const ev = {
  requested: { type: 'TransferRequested', data: requestedData },
  started: { type: 'TransferStarted', data: { transferId } },
  paused: { type: 'TransferPaused', data: { transferId } },
  resumed: { type: 'TransferResumed', data: { transferId } },
  cancelled: { type: 'TransferCancelled', data: { transferId, reason: 'operator' } },
  completed: { type: 'TransferCompleted', data: { transferId } },
  failed: { type: 'TransferFailed', data: { transferId, reason: 'origin gone' } },
} as const satisfies Record<string, TransferEvent>;

const manifest = { totalBytes: 10_000, pieceLength: 4096, pieceCount: 3 };
/** One segment and one file: the shape of a single-file artifact. */
const layout = (m: { totalBytes: number; pieceLength: number; pieceCount: number }) => ({
  ...m,
  segmentPieces: m.pieceCount,
  files: [{ path: 'model.bin', length: m.totalBytes }],
});
const manifestPublished: TransferEvent = { type: 'ManifestPublished', data: { transferId, ...layout(manifest) } };

const cmd = {
  request: (autoStart: boolean): TransferCommand => ({ type: 'RequestTransfer', data: { ...requestedData, autoStart } }),
  publish: (m: { totalBytes: number; pieceLength: number; pieceCount: number }): TransferCommand => ({
    type: 'PublishManifest',
    data: { transferId, ...layout(m) },
  }),
  start: { type: 'StartTransfer', data: { transferId } },
  pause: { type: 'PauseTransfer', data: { transferId } },
  resume: { type: 'ResumeTransfer', data: { transferId } },
  cancel: { type: 'CancelTransfer', data: { transferId, reason: 'operator' } },
  complete: { type: 'CompleteTransfer', data: { transferId } },
  fail: { type: 'FailTransfer', data: { transferId, reason: 'origin gone' } },
} as const satisfies Record<string, TransferCommand | ((...args: never[]) => TransferCommand)>;

/** A history that leaves the transfer in each status (running twice: started, and resumed). */
const histories: ReadonlyArray<{ label: string; status: TransferStatus; history: TransferEvent[] }> = [
  { label: 'requested', status: 'requested', history: [ev.requested] },
  { label: 'running', status: 'running', history: [ev.requested, ev.started] },
  { label: 'running (resumed)', status: 'running', history: [ev.requested, ev.started, ev.paused, ev.resumed] },
  { label: 'paused', status: 'paused', history: [ev.requested, ev.started, ev.paused] },
  { label: 'completed', status: 'completed', history: [ev.requested, ev.started, ev.completed] },
  { label: 'failed', status: 'failed', history: [ev.requested, ev.started, ev.failed] },
  { label: 'cancelled', status: 'cancelled', history: [ev.requested, ev.cancelled] },
];

type Lifecycle = 'start' | 'pause' | 'resume' | 'cancel' | 'complete' | 'fail';

/** Each lifecycle command: the event it decides, the statuses it is allowed from, where it leads. */
const lifecycle: Record<Lifecycle, { event: TransferEvent; from: readonly TransferStatus[]; to: TransferStatus }> = {
  start: { event: ev.started, from: ['requested'], to: 'running' },
  pause: { event: ev.paused, from: ['running'], to: 'paused' },
  resume: { event: ev.resumed, from: ['paused'], to: 'running' },
  cancel: { event: ev.cancelled, from: ['requested', 'running', 'paused'], to: 'cancelled' },
  complete: { event: ev.completed, from: ['running'], to: 'completed' },
  fail: { event: ev.failed, from: ['requested', 'running', 'paused'], to: 'failed' },
};

describe('transferDecider', () => {
  describe('RequestTransfer', () => {
    it('without autoStart records only TransferRequested, without the autoStart flag', () => {
      const state = given(transferDecider, []).when(cmd.request(false)).then([ev.requested]);
      assert.deepEqual(state, { status: 'requested', transferId, manifest: null, request: requestedData });
    });

    it('with autoStart also starts the transfer', () => {
      const state = given(transferDecider, []).when(cmd.request(true)).then([ev.requested, ev.started]);
      assert.equal(state.status, 'running');
    });

    for (const { label, history } of histories) {
      it(`twice is refused with TE_ERR_TRANSFER_EXISTS (transfer ${label})`, () => {
        given(transferDecider, history).when(cmd.request(false)).thenRejects('TE_ERR_TRANSFER_EXISTS', /t-1 already exists/);
      });
    }
  });

  describe('lifecycle transitions', () => {
    for (const [name, rule] of Object.entries(lifecycle)) {
      for (const { label, status, history } of histories) {
        const command = cmd[name as Lifecycle];
        if (rule.from.includes(status)) {
          it(`${name} from ${label} decides ${rule.event.type} and leads to ${rule.to}`, () => {
            const state = given(transferDecider, history).when(command).then([rule.event]);
            assert.equal(state.status, rule.to);
          });
        } else {
          it(`${name} from ${label} is TE_ERR_ILLEGAL_TRANSITION`, () => {
            given(transferDecider, history)
              .when(command)
              .thenRejects('TE_ERR_ILLEGAL_TRANSITION', new RegExp(`cannot ${name} transfer t-1: it is ${status}`));
          });
        }
      }
    }

    for (const { label, status, history } of histories) {
      it(`the ${label} history folds to status ${status}`, () => {
        assert.deepEqual(given(transferDecider, history).state, { status, transferId, manifest: null, request: requestedData });
      });
    }

    it('cancel carries the reason, also a null one', () => {
      const nullReason: TransferCommand = { type: 'CancelTransfer', data: { transferId, reason: null } };
      given(transferDecider, [ev.requested, ev.started])
        .when(nullReason)
        .then([{ type: 'TransferCancelled', data: { transferId, reason: null } }]);
    });

    it('fail carries the reason', () => {
      const command: TransferCommand = { type: 'FailTransfer', data: { transferId, reason: 'disk full' } };
      given(transferDecider, [ev.requested, ev.started, ev.paused])
        .when(command)
        .then([{ type: 'TransferFailed', data: { transferId, reason: 'disk full' } }]);
    });

    it('a full run: request, start, pause, resume, complete', () => {
      let history: TransferEvent[] = [];
      const step = (command: TransferCommand, expected: TransferEvent[]) => {
        given(transferDecider, history).when(command).then(expected);
        history = [...history, ...expected];
      };
      step(cmd.request(false), [ev.requested]);
      step(cmd.publish(manifest), [manifestPublished]);
      step(cmd.start, [ev.started]);
      step(cmd.pause, [ev.paused]);
      step(cmd.resume, [ev.resumed]);
      step(cmd.complete, [ev.completed]);
      assert.deepEqual(given(transferDecider, history).state, { status: 'completed', transferId, manifest: { ...layout(manifest), segments: [], fileDigests: null }, request: requestedData });
    });
  });

  describe('on a transfer that does not exist', () => {
    const commands: Array<[string, TransferCommand]> = [
      ...Object.entries(lifecycle).map(([name]): [string, TransferCommand] => [name, cmd[name as Lifecycle]]),
      ['publish manifest', cmd.publish(manifest)],
    ];
    for (const [name, command] of commands) {
      it(`${name} is TE_ERR_TRANSFER_NOT_FOUND`, () => {
        given(transferDecider, []).when(command).thenRejects('TE_ERR_TRANSFER_NOT_FOUND', /transfer t-1 does not exist/);
      });
    }
  });

  describe('PublishManifest', () => {
    for (const { label, history } of histories.filter((h) => !isTerminalTransferStatus(h.status))) {
      it(`is recorded on a ${label} transfer`, () => {
        const state = given(transferDecider, history).when(cmd.publish(manifest)).then([manifestPublished]);
        assert.ok(state.status !== 'none');
        assert.deepEqual(state.manifest, { ...layout(manifest), segments: [], fileDigests: null });
      });
    }

    for (const { label, history } of histories.filter((h) => isTerminalTransferStatus(h.status))) {
      it(`is TE_ERR_ILLEGAL_TRANSITION on a ${label} transfer`, () => {
        given(transferDecider, history).when(cmd.publish(manifest)).thenRejects('TE_ERR_ILLEGAL_TRANSITION');
      });
    }

    it('an identical republish decides nothing', () => {
      given(transferDecider, [ev.requested, manifestPublished, ev.started]).when(cmd.publish(manifest)).then([]);
    });

    for (const [field, changed] of [
      ['totalBytes', { ...manifest, totalBytes: 9000 }],
      ['pieceLength', { ...manifest, pieceLength: 8192, pieceCount: 2 }],
      ['pieceCount', { ...manifest, pieceCount: 4 }],
    ] as const) {
      it(`a republish with a different ${field} is TE_ERR_MANIFEST_CONFLICT`, () => {
        given(transferDecider, [ev.requested, manifestPublished])
          .when(cmd.publish(changed))
          .thenRejects('TE_ERR_MANIFEST_CONFLICT', /already has a different manifest/);
      });
    }

    it('a pieceCount that does not match ceil(totalBytes / pieceLength) is TE_ERR_VALIDATION', () => {
      given(transferDecider, [ev.requested])
        .when(cmd.publish({ totalBytes: 10_000, pieceLength: 4096, pieceCount: 2 }))
        .thenRejects('TE_ERR_VALIDATION', /has 3 pieces, not 2/);
      given(transferDecider, [ev.requested])
        .when(cmd.publish({ totalBytes: 8192, pieceLength: 4096, pieceCount: 3 }))
        .thenRejects('TE_ERR_VALIDATION', /has 2 pieces, not 3/);
    });

    it('an exact multiple of the piece length has no short last piece', () => {
      const exact = { totalBytes: 8192, pieceLength: 4096, pieceCount: 2 };
      given(transferDecider, [ev.requested])
        .when(cmd.publish(exact))
        .then([{ type: 'ManifestPublished', data: { transferId, ...layout(exact) } }]);
    });

    it('a zero piece length is TE_ERR_VALIDATION', () => {
      given(transferDecider, [ev.requested])
        .when(cmd.publish({ totalBytes: 10, pieceLength: 0, pieceCount: 1 }))
        .thenRejects('TE_ERR_VALIDATION');
    });

    it(
      'negative or fractional sizes are TE_ERR_VALIDATION',
      () => {
        given(transferDecider, [ev.requested])
          .when(cmd.publish({ totalBytes: -10, pieceLength: -1, pieceCount: 10 }))
          .thenRejects('TE_ERR_VALIDATION');
        given(transferDecider, [ev.requested])
          .when(cmd.publish({ totalBytes: 3, pieceLength: 1.5, pieceCount: 2 }))
          .thenRejects('TE_ERR_VALIDATION');
      },
    );
  });

  describe('isTerminalTransferStatus', () => {
    it('is true exactly for completed, failed and cancelled', () => {
      const all = ['none', 'requested', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
      assert.deepEqual(all.filter(isTerminalTransferStatus), ['completed', 'failed', 'cancelled']);
    });
  });
});
