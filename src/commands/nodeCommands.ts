import type { CommandContext } from '../events/metadata.ts';
import { nodeStreamId, type NodeDescription } from '../events/nodeEvents.ts';
import { fingerprintOf, handleCommand, type CommandDeps } from './handleCommand.ts';
import { nodeDecider, type NodeState } from './nodeDecider.ts';

export interface NodeCommandResult {
  nodeId: string;
  status: 'registered';
  requestId: string;
}

export function createNodeCommands(deps: CommandDeps) {
  return {
    async registerNode(nodeId: string, description: NodeDescription, context: CommandContext) {
      return handleCommand(
        deps,
        nodeDecider,
        nodeStreamId(nodeId),
        { type: 'RegisterNode', data: { nodeId, ...description } },
        { ...context, fingerprint: fingerprintOf({ command: 'registerNode', nodeId, description }) },
        (_state: NodeState): NodeCommandResult => ({ nodeId, status: 'registered', requestId: context.requestId }),
      );
    },
  };
}

export type NodeCommands = ReturnType<typeof createNodeCommands>;
