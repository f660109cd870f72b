import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TransferLifecycleAction } from '../../commands/transferCommands.ts';
import type { AppDeps } from '../appDeps.ts';
import { commandContextOf } from '../commandContext.ts';
import { CancelBody, CommandResultBody, CreateTransferBody, ErrorBody, TransferIdParams } from '../schemas.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, 413: ErrorBody };

/** The command side: create and lifecycle. Each answers from the command result, not the read model. */
export function transferCommandRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  const clock = deps.clock ?? (() => new Date());
  return async (app) => {
    app.post(
      '/api/torrent/create',
      {
        config: { scope: 'write' },
        schema: {
          summary: 'Request a transfer of an artifact to the fleet',
          description: 'Idempotent by X-Request-ID: a retry with the same id and body returns the original result and appends nothing.',
          tags: ['transfers'],
          body: CreateTransferBody,
          response: { 201: CommandResultBody, ...errors },
        },
      },
      async (request, reply) => {
        const outcome = await deps.transfers.createTransfer(request.body, commandContextOf(request, clock));
        if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
        return reply.code(201).send(outcome.result);
      },
    );

    const lifecycle: Array<[TransferLifecycleAction, string]> = [
      ['start', 'Start a requested transfer'],
      ['pause', 'Pause a running transfer'],
      ['resume', 'Resume a paused transfer'],
      ['cancel', 'Cancel a transfer that has not ended'],
    ];
    for (const [action, summary] of lifecycle) {
      app.post(
        `/api/transfers/:id/${action}`,
        {
          config: { scope: 'write' },
          schema: {
            summary,
            tags: ['transfers'],
            params: TransferIdParams,
            ...(action === 'cancel' ? { body: CancelBody } : {}),
            response: { 200: CommandResultBody, 404: ErrorBody, ...errors },
          },
        },
        async (request, reply) => {
          const body = request.body as { reason?: string } | null | undefined;
          const outcome = await deps.transfers.changeLifecycle(
            request.params.id,
            action,
            commandContextOf(request, clock),
            body?.reason ?? null,
          );
          if (outcome.duplicate) reply.header('idempotent-replayed', 'true');
          return outcome.result;
        },
      );
    }
  };
}
