import assert from 'node:assert/strict';
import { fold, isRejection, type Decider, type Decision } from '../../src/commands/decider.ts';
import type { ErrorCode } from '../../src/errors.ts';

/**
 * Given/when/then for deciders:
 *
 *   given(transferDecider, [requested]).when(start).then([started]);
 *   given(transferDecider, []).when(start).thenRejects('TE_ERR_TRANSFER_NOT_FOUND', /does not exist/);
 *
 * The history is folded with `fold`, the command decided against the result. `then` also evolves
 * the state with the decided events and returns it, so a test can look at where it ends up;
 * `thenRejects` returns the Rejection. Do not return the `when(...)` object itself from a test
 * function: it has a `then` method, so it would be taken for a promise.
 */
export interface Scenario<S, E> {
  /** The decision, for assertions the two below do not cover. */
  readonly decision: Decision<E>;
  /** The decision is exactly these events (deep, strict); returns the state after them. */
  then(expected: readonly E[]): S;
  /** The decision is a Rejection with this code (and a message matching `message`, if given). */
  thenRejects(code: ErrorCode, message?: RegExp): { code: ErrorCode; message: string };
}

export interface Given<C, S, E> {
  /** The state the history folds to. */
  readonly state: S;
  when(command: C): Scenario<S, E>;
}

export function given<C, S, E>(decider: Decider<C, S, E>, history: readonly E[]): Given<C, S, E> {
  const state = fold(decider, history);
  return {
    state,
    when(command: C): Scenario<S, E> {
      const decision = decider.decide(command, state);
      return {
        decision,
        then(expected) {
          if (isRejection(decision)) {
            assert.fail(`expected ${JSON.stringify(expected)}, but it was rejected with ${decision.code}: ${decision.message}`);
          }
          assert.deepEqual(decision, expected);
          return decision.reduce((next, event) => decider.evolve(next, event), state);
        },
        thenRejects(code, message) {
          if (!isRejection(decision)) {
            assert.fail(`expected a rejection with ${code}, but it decided ${JSON.stringify(decision)}`);
          }
          assert.equal(decision.rejected, true);
          assert.equal(decision.code, code, `rejected with ${decision.code} (${decision.message}), expected ${code}`);
          if (message !== undefined) assert.match(decision.message, message);
          return { code: decision.code, message: decision.message };
        },
      };
    },
  };
}
