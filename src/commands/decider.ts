import type { ErrorCode } from '../errors.ts';

/** An expected business failure: the command is refused and nothing is appended. */
export interface Rejection {
  readonly rejected: true;
  readonly code: ErrorCode;
  readonly message: string;
}

export type Decision<E> = E[] | Rejection;

export interface Decider<C, S, E> {
  decide(command: C, state: S): Decision<E>;
  evolve(state: S, event: E): S;
  initialState(): S;
}

export function reject(code: ErrorCode, message: string): Rejection {
  return { rejected: true, code, message };
}

export function isRejection<E>(decision: Decision<E>): decision is Rejection {
  return !Array.isArray(decision);
}

export function fold<S, E>(decider: Pick<Decider<unknown, S, E>, 'evolve' | 'initialState'>, events: readonly E[]): S {
  return events.reduce(decider.evolve, decider.initialState());
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
