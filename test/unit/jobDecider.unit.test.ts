import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jobDecider, type JobCommand, type JobState, type TransferContext } from '../../src/commands/jobDecider.ts';
import type { TransferStatus } from '../../src/commands/transferDecider.ts';
import type { ChunkSource, JobEvent } from '../../src/events/jobEvents.ts';
import { given } from '../helpers/given.ts';

const key = { transferId: 't-1', nodeId: 'n-1' };

/** 10 000 bytes in 4096-byte pieces: 4096 + 4096 + 1808. */
const manifest = { totalBytes: 10_000, pieceLength: 4096, pieceCount: 3 };
const lastPieceBytes = 10_000 - 2 * 4096;

const transfer = (status: TransferStatus, withManifest = true): TransferContext => ({
  status,
  manifest: withManifest ? manifest : null,
});
const running = transfer('running');
const runningWithoutManifest = transfer('running', false);

const ev = {
  assigned: { type: 'JobAssigned', data: { ...key, role: 'peer' } } satisfies JobEvent,
  granted: (fencingToken: number, workerId = `w-${fencingToken}`): JobEvent => ({
    type: 'JobLeaseGranted',
    data: { ...key, workerId, fencingToken },
  }),
  verified: (fencingToken: number, chunkIndexes: number[], bytes: number, source: ChunkSource = 'peer'): JobEvent => ({
    type: 'ChunksVerified',
    data: { ...key, fencingToken, source, chunkIndexes, bytes },
  }),
  completed: (fencingToken: number): JobEvent => ({ type: 'JobCompleted', data: { ...key, fencingToken } }),
  failed: (fencingToken: number, reason = 'disk full'): JobEvent => ({ type: 'JobFailed', data: { ...key, fencingToken, reason } }),
  abandoned: (fencingToken: number, reason = 'lease expired'): JobEvent => ({
    type: 'JobAbandoned',
    data: { ...key, fencingToken, reason },
  }),
};

const cmd = {
  assign: (context: TransferContext = running, role: 'seed' | 'peer' = 'peer'): JobCommand => ({
    type: 'AssignJob',
    data: { ...key, role },
    transfer: context,
  }),
  grant: (fencingToken: number, context: TransferContext = running, workerId = `w-${fencingToken}`): JobCommand => ({
    type: 'GrantLease',
    data: { ...key, workerId, fencingToken },
    transfer: context,
  }),
  report: (fencingToken: number, chunkIndexes: number[], context: TransferContext = running, source: ChunkSource = 'peer'): JobCommand => ({
    type: 'ReportChunksVerified',
    data: { ...key, fencingToken, source, chunkIndexes },
    transfer: context,
  }),
  complete: (fencingToken: number, context: TransferContext = running): JobCommand => ({
    type: 'CompleteJob',
    data: { ...key, fencingToken },
    transfer: context,
  }),
  fail: (fencingToken: number, reason = 'disk full'): JobCommand => ({ type: 'FailJob', data: { ...key, fencingToken, reason } }),
  abandon: (fencingToken: number, reason = 'lease expired'): JobCommand => ({
    type: 'AbandonJob',
    data: { ...key, fencingToken, reason },
  }),
};

/** The effect commands a lease holder sends, each with a given token, and what each decides when all chunks are in. */
const effects: ReadonlyArray<[string, (token: number) => JobCommand, (token: number) => JobEvent[]]> = [
  ['report', (token) => cmd.report(token, [0]), () => []],
  ['complete', (token) => cmd.complete(token), (token) => [ev.completed(token)]],
  ['fail', (token) => cmd.fail(token), (token) => [ev.failed(token)]],
  ['abandon', (token) => cmd.abandon(token), (token) => [ev.abandoned(token)]],
];

const leased = [ev.assigned, ev.granted(1)];
const allVerified = [...leased, ev.verified(1, [0, 1, 2], manifest.totalBytes)];

function active(state: JobState): Exclude<JobState, { status: 'none' }> {
  assert.notEqual(state.status, 'none');
  return state as Exclude<JobState, { status: 'none' }>;
}

describe('jobDecider', () => {
  describe('AssignJob', () => {
    for (const status of ['requested', 'running', 'paused'] as const) {
      it(`assigns on a ${status} transfer, with no lease and nothing verified`, () => {
        const state = active(given(jobDecider, []).when(cmd.assign(transfer(status))).then([ev.assigned]));
        assert.equal(state.status, 'assigned');
        assert.equal(state.highestFencingToken, 0);
        assert.equal(state.workerId, null);
        assert.equal(state.verified.size, 0);
      });
    }

    it('records the role', () => {
      given(jobDecider, []).when(cmd.assign(running, 'seed')).then([{ type: 'JobAssigned', data: { ...key, role: 'seed' } }]);
    });

    for (const status of ['cancelled', 'completed', 'failed'] as const) {
      it(`on a ${status} transfer is TE_ERR_ILLEGAL_TRANSITION`, () => {
        given(jobDecider, []).when(cmd.assign(transfer(status))).thenRejects('TE_ERR_ILLEGAL_TRANSITION', new RegExp(`the transfer is ${status}`));
      });
    }

    it('twice is TE_ERR_JOB_EXISTS', () => {
      given(jobDecider, [ev.assigned]).when(cmd.assign()).thenRejects('TE_ERR_JOB_EXISTS', /job t-1\/n-1 is already assigned/);
    });
  });

  describe('on a job that was never assigned', () => {
    for (const [name, command] of [['grant', cmd.grant(1)], ...effects.map(([n, make]) => [n, make(1)] as const)] as const) {
      it(`${name} is TE_ERR_JOB_NOT_FOUND`, () => {
        given(jobDecider, []).when(command).thenRejects('TE_ERR_JOB_NOT_FOUND', /job t-1\/n-1 does not exist/);
      });
    }
  });

  describe('GrantLease', () => {
    it('grants the first lease with its fencing token and worker', () => {
      const state = active(given(jobDecider, [ev.assigned]).when(cmd.grant(1, running, 'worker-a')).then([ev.granted(1, 'worker-a')]));
      assert.equal(state.status, 'leased');
      assert.equal(state.highestFencingToken, 1);
      assert.equal(state.workerId, 'worker-a');
    });

    it('grants a lease before the manifest is known and while the transfer is paused', () => {
      given(jobDecider, [ev.assigned]).when(cmd.grant(1, transfer('requested', false))).then([ev.granted(1)]);
      given(jobDecider, [ev.assigned]).when(cmd.grant(1, transfer('paused'))).then([ev.granted(1)]);
    });

    it('with a token equal to the highest granted is TE_ERR_STALE_FENCING_TOKEN', () => {
      given(jobDecider, leased).when(cmd.grant(1)).thenRejects('TE_ERR_STALE_FENCING_TOKEN', /not above the highest granted, 1/);
    });

    it('with a token lower than the highest granted is TE_ERR_STALE_FENCING_TOKEN', () => {
      given(jobDecider, [...leased, ev.granted(5)]).when(cmd.grant(4)).thenRejects('TE_ERR_STALE_FENCING_TOKEN');
    });

    it('token 0 on a fresh job is stale: tokens start above 0', () => {
      given(jobDecider, [ev.assigned]).when(cmd.grant(0)).thenRejects('TE_ERR_STALE_FENCING_TOKEN');
    });

    it('a higher token takes over a held lease', () => {
      const state = active(given(jobDecider, leased).when(cmd.grant(2, running, 'w-b')).then([ev.granted(2, 'w-b')]));
      assert.equal(state.highestFencingToken, 2);
      assert.equal(state.workerId, 'w-b');
    });

    for (const [label, end] of [
      ['completed', ev.completed(1)],
      ['failed', ev.failed(1)],
    ] as const) {
      it(`on a ${label} job is TE_ERR_ILLEGAL_TRANSITION`, () => {
        given(jobDecider, [...allVerified, end]).when(cmd.grant(2)).thenRejects('TE_ERR_ILLEGAL_TRANSITION', new RegExp(`is ${label}`));
      });
    }

    for (const status of ['cancelled', 'completed', 'failed'] as const) {
      it(`while the transfer is ${status} is TE_ERR_ILLEGAL_TRANSITION`, () => {
        given(jobDecider, [ev.assigned]).when(cmd.grant(1, transfer(status))).thenRejects('TE_ERR_ILLEGAL_TRANSITION');
      });
    }
  });

  describe('ReportChunksVerified', () => {
    it('records a batch with its source and the bytes of its pieces', () => {
      const state = active(
        given(jobDecider, leased).when(cmd.report(1, [0, 1], running, 'origin')).then([ev.verified(1, [0, 1], 8192, 'origin')]),
      );
      assert.deepEqual([...state.verified].sort(), [0, 1]);
    });

    it('counts the short last piece at its real size', () => {
      given(jobDecider, leased).when(cmd.report(1, [2])).then([ev.verified(1, [2], lastPieceBytes)]);
      assert.equal(lastPieceBytes, 1808);
    });

    it('a piece that exactly fills the last slot is a full piece', () => {
      const exact = { status: 'running', manifest: { totalBytes: 8192, pieceLength: 4096, pieceCount: 2 } } as const;
      given(jobDecider, leased).when(cmd.report(1, [1], exact)).then([ev.verified(1, [1], 4096)]);
    });

    it('drops duplicates within a batch and sorts the indexes', () => {
      given(jobDecider, leased).when(cmd.report(1, [2, 0, 2, 0])).then([ev.verified(1, [0, 2], 4096 + lastPieceBytes)]);
    });

    it('drops chunks verified by an earlier batch; bytes count only the new ones', () => {
      const history = [...leased, ev.verified(1, [0], 4096)];
      const state = active(given(jobDecider, history).when(cmd.report(1, [0, 1, 2])).then([ev.verified(1, [1, 2], 4096 + lastPieceBytes)]));
      assert.equal(state.verified.size, 3);
    });

    it('a batch of only known chunks decides nothing', () => {
      given(jobDecider, [...leased, ev.verified(1, [0, 1], 8192)]).when(cmd.report(1, [1, 0, 1])).then([]);
    });

    it('an empty batch decides nothing', () => {
      given(jobDecider, leased).when(cmd.report(1, [])).then([]);
    });

    it('batches across a replacement lease add up', () => {
      const history = [...leased, ev.verified(1, [0], 4096), ev.abandoned(1), ev.granted(2)];
      const state = active(given(jobDecider, history).when(cmd.report(2, [0, 1])).then([ev.verified(2, [1], 4096)]));
      assert.deepEqual([...state.verified].sort(), [0, 1]);
    });

    for (const index of [3, 100, -1, 0.5, Number.NaN]) {
      it(`chunk ${index} is TE_ERR_CHUNK_OUT_OF_RANGE and nothing of the batch is recorded`, () => {
        given(jobDecider, leased).when(cmd.report(1, [0, index])).thenRejects('TE_ERR_CHUNK_OUT_OF_RANGE', /outside 0\.\.2/);
      });
    }

    it('before the manifest is published is TE_ERR_ILLEGAL_TRANSITION', () => {
      given(jobDecider, leased)
        .when(cmd.report(1, [0], runningWithoutManifest))
        .thenRejects('TE_ERR_ILLEGAL_TRANSITION', /before the manifest is published/);
    });

    it('the fencing token is checked before the chunks', () => {
      given(jobDecider, [...leased, ev.granted(2)]).when(cmd.report(1, [99], runningWithoutManifest)).thenRejects('TE_ERR_STALE_FENCING_TOKEN');
    });
  });

  describe('CompleteJob', () => {
    it('completes once every chunk is verified', () => {
      const state = given(jobDecider, allVerified).when(cmd.complete(1)).then([ev.completed(1)]);
      assert.equal(state.status, 'completed');
    });

    it('completes after chunks verified over several batches', () => {
      const history = [...leased, ev.verified(1, [1], 4096), ev.verified(1, [0, 2], 4096 + lastPieceBytes)];
      given(jobDecider, history).when(cmd.complete(1)).then([ev.completed(1)]);
    });

    it('with chunks missing is TE_ERR_ILLEGAL_TRANSITION', () => {
      given(jobDecider, [...leased, ev.verified(1, [0, 2], 4096 + lastPieceBytes)])
        .when(cmd.complete(1))
        .thenRejects('TE_ERR_ILLEGAL_TRANSITION', /cannot complete: 1 chunks are not verified/);
    });

    it('with nothing verified is TE_ERR_ILLEGAL_TRANSITION', () => {
      given(jobDecider, leased).when(cmd.complete(1)).thenRejects('TE_ERR_ILLEGAL_TRANSITION', /3 chunks are not verified/);
    });

    it('before the manifest is published is TE_ERR_ILLEGAL_TRANSITION', () => {
      given(jobDecider, leased).when(cmd.complete(1, runningWithoutManifest)).thenRejects('TE_ERR_ILLEGAL_TRANSITION', /all chunks are not verified/);
    });
  });

  describe('FailJob and AbandonJob', () => {
    it('fail records the reason and ends the job', () => {
      const state = given(jobDecider, leased).when(cmd.fail(1, 'checksum mismatch')).then([ev.failed(1, 'checksum mismatch')]);
      assert.equal(state.status, 'failed');
    });

    it('abandon records the reason and frees the worker but keeps the highest token', () => {
      const state = active(given(jobDecider, leased).when(cmd.abandon(1, 'worker drained')).then([ev.abandoned(1, 'worker drained')]));
      assert.equal(state.status, 'abandoned');
      assert.equal(state.workerId, null);
      assert.equal(state.highestFencingToken, 1);
    });

    it('a replacement lease after abandon needs a higher token', () => {
      const history = [...leased, ev.abandoned(1)];
      given(jobDecider, history).when(cmd.grant(1)).thenRejects('TE_ERR_STALE_FENCING_TOKEN');
      const state = active(given(jobDecider, history).when(cmd.grant(2, running, 'w-b')).then([ev.granted(2, 'w-b')]));
      assert.equal(state.status, 'leased');
      assert.equal(state.highestFencingToken, 2);
    });

    it('the replacement can finish the job; the abandoned holder cannot', () => {
      const history = [...leased, ev.verified(1, [0], 4096), ev.abandoned(1), ev.granted(2), ev.verified(2, [1, 2], 4096 + lastPieceBytes)];
      given(jobDecider, history).when(cmd.complete(1)).thenRejects('TE_ERR_STALE_FENCING_TOKEN');
      given(jobDecider, history).when(cmd.complete(2)).then([ev.completed(2)]);
    });
  });

  describe('fencing', () => {
    // Token 1 was granted, then superseded by 2: 1 is stale, 3 was never granted.
    const superseded: Array<[string, JobEvent[]]> = [
      ['taken over', [...leased, ev.granted(2)]],
      ['abandoned and replaced', [...leased, ev.abandoned(1), ev.granted(2)]],
    ];

    for (const [label, history] of superseded) {
      for (const [name, make, accepted] of effects) {
        it(`${name} with a token below the highest granted is TE_ERR_STALE_FENCING_TOKEN (lease ${label})`, () => {
          given(jobDecider, history).when(make(1)).thenRejects('TE_ERR_STALE_FENCING_TOKEN', /fencing token 1 is stale; the current lease holds 2/);
        });

        it(`${name} with a token never granted is TE_ERR_LEASE_NOT_GRANTED (lease ${label})`, () => {
          given(jobDecider, history).when(make(3)).thenRejects('TE_ERR_LEASE_NOT_GRANTED', /no lease with fencing token 3/);
        });

        it(`${name} with the current token is accepted (lease ${label})`, () => {
          given(jobDecider, [...history, ev.verified(2, [0, 1, 2], manifest.totalBytes)]).when(make(2)).then(accepted(2));
        });
      }

      it(`grant with a token below the highest granted is TE_ERR_STALE_FENCING_TOKEN (lease ${label})`, () => {
        given(jobDecider, history).when(cmd.grant(1)).thenRejects('TE_ERR_STALE_FENCING_TOKEN');
      });

      it(`grant with the highest granted token again is TE_ERR_STALE_FENCING_TOKEN (lease ${label})`, () => {
        given(jobDecider, history).when(cmd.grant(2)).thenRejects('TE_ERR_STALE_FENCING_TOKEN');
      });
    }

    for (const [name, make] of effects) {
      it(`${name} on an assigned job that never had a lease is TE_ERR_LEASE_NOT_GRANTED`, () => {
        given(jobDecider, [ev.assigned]).when(make(1)).thenRejects('TE_ERR_LEASE_NOT_GRANTED', /job is assigned/);
        given(jobDecider, [ev.assigned]).when(make(0)).thenRejects('TE_ERR_LEASE_NOT_GRANTED');
      });

      it(`${name} with the token of an abandoned lease is TE_ERR_LEASE_NOT_GRANTED`, () => {
        given(jobDecider, [...leased, ev.abandoned(1)]).when(make(1)).thenRejects('TE_ERR_LEASE_NOT_GRANTED', /job is abandoned/);
      });

      for (const [label, end] of [
        ['completed', ev.completed(1)],
        ['failed', ev.failed(1)],
      ] as const) {
        it(`${name} on a ${label} job is TE_ERR_LEASE_NOT_GRANTED`, () => {
          given(jobDecider, [...allVerified, end]).when(make(1)).thenRejects('TE_ERR_LEASE_NOT_GRANTED', new RegExp(`job is ${label}`));
        });
      }
    }
  });
});
