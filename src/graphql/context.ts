import { GraphQLError } from 'graphql';
import { hasScope, type Principal, type Scope } from '../api/auth/tokens.ts';
import { TorrentEdgeError } from '../errors.ts';
import type { CommandContext } from '../events/metadata.ts';

/** What every resolver sees: who is asking, and how a command made here is attributed. */
export interface GraphqlContext {
  principal: Principal;
  /**
   * The metadata of a command issued by this operation. Over HTTP the request id is the
   * X-Request-ID (as for REST); a mutation's `requestId` argument wins, so an operation can carry
   * several idempotent mutations. Over WebSocket each operation gets a fresh id unless it names one.
   */
  commandContext(requestId: string | null | undefined): CommandContext;
}

/** The same check REST's auth plugin makes; the route already required `read`. */
export function requireScope(context: GraphqlContext, scope: Scope): void {
  if (!hasScope(context.principal, scope)) {
    throw new TorrentEdgeError('TE_ERR_FORBIDDEN', `this needs the "${scope}" scope; the token of ${context.principal.subject} has ${context.principal.scopes.join(', ')}`);
  }
}

/** Expected failures keep their stable code, as REST's error body does; anything else is masked by yoga. */
export function exposedError(error: GraphQLError): GraphQLError | undefined {
  const original = error.originalError;
  if (original instanceof TorrentEdgeError) {
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      positions: error.positions,
      path: error.path,
      extensions: { code: original.code, retriable: original.retriable },
    });
  }
  // Errors of parsing, validation and limits carry no original error: they are the caller's.
  if (original === undefined || original === null) return error;
  return undefined;
}
