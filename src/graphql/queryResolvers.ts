import { TorrentEdgeError } from '../errors.ts';
import { jobStreamId } from '../events/jobEvents.ts';
import { transferStreamId } from '../events/transferEvents.ts';
import type { FleetTotalsView } from '../projections/queries/fleetQueries.ts';
import type { NodeView } from '../projections/queries/nodeQueries.ts';
import { decodeCursor, type JobView, type TransferView } from '../projections/queries/transferQueries.ts';
import type { GraphqlDeps } from './graphqlDeps.ts';

type TransferParent = TransferView & { jobs?: JobView[] };

const throughputWindowMs = 10_000;
const maxPageSize = 200;

export function queryResolvers(deps: GraphqlDeps) {
  const withJobs = async (parent: TransferParent): Promise<JobView[]> => parent.jobs ?? (await deps.queries.getTransfer(parent.id))?.jobs ?? [];
  return {
    Query: {
      transfers: async (_: unknown, args: { first: number; after?: string | null; status?: string | null }) => {
        if (!(args.first >= 1 && args.first <= maxPageSize)) throw new TorrentEdgeError('TE_ERR_VALIDATION', `first is 1..${maxPageSize}`);
        const after = args.after == null ? undefined : decodeCursor(args.after);
        if (args.after != null && after === undefined) throw new TorrentEdgeError('TE_ERR_VALIDATION', 'after is not a cursor this api returned');
        return deps.queries.listTransfers({ limit: args.first, ...(after ? { after } : {}), ...(args.status ? { status: args.status } : {}) });
      },
      transfer: async (_: unknown, args: { id: string }) => (isUuid(args.id) ? ((await deps.queries.getTransfer(args.id)) ?? null) : null),
      nodes: () => deps.nodes.queries.listNodes(),
      node: async (_: unknown, args: { id: string }) => (await deps.nodes.queries.listNodes()).find((node) => node.nodeId === args.id) ?? null,
      fleet: () => deps.fleet.totals(),
    },
    Transfer: {
      bytesSavedAtOrigin: (parent: TransferView) => parent.bytes.peer + parent.bytes.cas,
      jobs: async (parent: TransferParent) => {
        const jobs = await withJobs(parent);
        const recent = await deps.fleet.chunksVerifiedSince(parent.id, new Date(deps.clock().getTime() - throughputWindowMs));
        return jobs.map((job) => ({ ...job, throughput: ((recent.get(job.nodeId) ?? 0) * (parent.pieceLength ?? 0)) / (throughputWindowMs / 1000) }));
      },
      chunks: (parent: TransferView, args: { nodeId?: string | null }) =>
        deps.fleet.chunkMaps(parent.id, parent.pieceCount ?? 0, args.nodeId ?? undefined),
      events: async (parent: TransferView, args: { last?: number | null }) => {
        // The same reading as GET /api/transfers/:id/events: the transfer's stream and its jobs' streams.
        const jobPrefix = jobStreamId(parent.id, '');
        const all = await deps.eventLog.readStreamsWithPrefix([transferStreamId(parent.id), jobPrefix]);
        const own = all.filter((event) => event.streamId === transferStreamId(parent.id) || event.streamId.startsWith(jobPrefix));
        const events = args.last == null ? own : own.slice(-Math.max(0, args.last));
        return events.map((event) => ({ ...event, recordedAt: event.recordedAt.toISOString() }));
      },
    },
    Job: {
      fencingToken: (job: JobView) => job.highestFencingToken,
    },
    Node: {
      id: (node: NodeView) => node.nodeId,
      labels: (node: NodeView) => Object.entries(node.labels).map(([key, value]) => ({ key, value })),
      heartbeat: (node: NodeView) => {
        const beat = deps.heartbeats.current(node.nodeId);
        return beat === undefined ? null : { ...beat, receivedAt: beat.receivedAt.toISOString() };
      },
      jobs: async (node: NodeView) =>
        (await deps.queries.listActiveJobsOfNode(node.nodeId)).map((job) => ({ ...job, fencingToken: job.highestFencingToken })),
    },
    FleetTotals: {
      bytesSavedAtOrigin: (totals: FleetTotalsView) => totals.bytes.peer + totals.bytes.cas,
    },
  };
}

const isUuid = (id: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
