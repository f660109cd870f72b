import type { NodeDescription, NodeEvent } from '../events/nodeEvents.ts';
import { assertNever, type Decider, type Decision } from './decider.ts';

export type NodeState = { status: 'none' } | ({ status: 'registered'; nodeId: string } & NodeDescription);

export type NodeCommand = { type: 'RegisterNode'; data: { nodeId: string } & NodeDescription };

const sameDescription = (a: NodeDescription, b: NodeDescription): boolean =>
  a.casVolume === b.casVolume &&
  a.capacityBytes === b.capacityBytes &&
  JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(b.labels).sort());

/** Registering is idempotent: a worker registers at every start, and only a changed description is an event. */
export function decideNode(command: NodeCommand, state: NodeState): Decision<NodeEvent> {
  switch (command.type) {
    case 'RegisterNode':
      if (state.status === 'none') return [{ type: 'NodeRegistered', data: command.data }];
      return sameDescription(state, command.data) ? [] : [{ type: 'NodeDescriptionChanged', data: command.data }];
    default:
      return assertNever(command.type);
  }
}

export function evolveNode(_state: NodeState, event: NodeEvent): NodeState {
  switch (event.type) {
    case 'NodeRegistered':
    case 'NodeDescriptionChanged':
      return { status: 'registered', ...event.data };
    default:
      return assertNever(event);
  }
}

export const nodeDecider: Decider<NodeCommand, NodeState, NodeEvent> = {
  decide: decideNode,
  evolve: evolveNode,
  initialState: () => ({ status: 'none' }),
};
