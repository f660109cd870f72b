import { Value } from 'typebox/value';
import { CancelBody, CreateTransferBody } from '../api/schemas.ts';
import type { TransferLifecycleAction } from '../commands/transferCommands.ts';
import { TorrentEdgeError } from '../errors.ts';
import { requireScope, type GraphqlContext } from './context.ts';
import type { GraphqlDeps } from './graphqlDeps.ts';

// The X-Request-ID rule of the requestId plugin: an id given as an argument is held to the same.
const requestIdPattern = /^[A-Za-z0-9._:@/+=-]{1,200}$/;

type Labels = Array<{ key: string; value: string }> | null | undefined;
interface CreateArgs {
  input: Record<string, unknown> & { targets?: { kind: string; nodeIds?: string[] | null; labels?: Labels } | null };
  requestId?: string | null;
}

/** Drops nulls (GraphQL's "not given") so that the input is the body REST would have received. */
function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

/**
 * The REST body for the same intent: same fields, labels as an object, REST's defaults applied and
 * REST's schema checked. The command's fingerprint is then the one REST computes, so a request id
 * used over REST and over GraphQL for the same transfer is one command.
 */
export function restBodyOf(input: CreateArgs['input']): Record<string, unknown> {
  const body = withoutNulls({ ...input });
  if (input.targets != null) {
    const { kind, nodeIds, labels } = input.targets;
    body.targets = withoutNulls({ kind, nodeIds, labels: labels == null ? null : Object.fromEntries(labels.map((label) => [label.key, label.value])) });
  }
  if (input.source != null) body.source = { ...input.source };
  const withDefaults = Value.Default(CreateTransferBody, body);
  if (!Value.Check(CreateTransferBody, withDefaults)) {
    const first = [...Value.Errors(CreateTransferBody, withDefaults)][0];
    throw new TorrentEdgeError('TE_ERR_VALIDATION', `input${(first?.instancePath ?? '').replaceAll('/', '.')} ${first?.message ?? 'is invalid'}`);
  }
  return withDefaults;
}

function contextFor(context: GraphqlContext, requestId: string | null | undefined) {
  requireScope(context, 'write');
  if (requestId != null && !requestIdPattern.test(requestId)) {
    throw new TorrentEdgeError('TE_ERR_INVALID_REQUEST_ID', 'requestId must be 1–200 characters of letters, digits and ._:@/+=-');
  }
  return context.commandContext(requestId);
}

const resultOf = (outcome: { result: { id: string; status: string; requestId: string }; duplicate: boolean }) => ({ ...outcome.result, replayed: outcome.duplicate });

/** The REST commands, through the same handlers: same validation, same idempotency, same rejections. */
export function mutationResolvers(deps: GraphqlDeps) {
  const lifecycle = (action: TransferLifecycleAction) => async (_: unknown, args: { id: string; requestId?: string | null; reason?: string | null }, context: GraphqlContext) => {
    const commandContext = contextFor(context, args.requestId);
    if (!/^[0-9a-f-]{36}$/i.test(args.id)) throw new TorrentEdgeError('TE_ERR_VALIDATION', 'id must be a transfer id (a UUID)');
    if (action === 'cancel' && !Value.Check(CancelBody, withoutNulls({ reason: args.reason }))) {
      throw new TorrentEdgeError('TE_ERR_VALIDATION', 'reason is at most 1024 characters');
    }
    return resultOf(await deps.transfers.changeLifecycle(args.id, action, commandContext, args.reason ?? null));
  };
  return {
    Mutation: {
      createTransfer: async (_: unknown, args: CreateArgs, context: GraphqlContext) => {
        const commandContext = contextFor(context, args.requestId);
        return resultOf(await deps.transfers.createTransfer(restBodyOf(args.input), commandContext));
      },
      startTransfer: lifecycle('start'),
      pauseTransfer: lifecycle('pause'),
      resumeTransfer: lifecycle('resume'),
      cancelTransfer: lifecycle('cancel'),
    },
  };
}
