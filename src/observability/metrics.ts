import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** All TorrentEdge metrics, on one registry per process (no global default registry). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'torrentedge_' });

  const httpRequestDuration = new Histogram({
    name: 'torrentedge_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const commandsTotal = new Counter({
    name: 'torrentedge_commands_total',
    help: 'Commands handled, by command type and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [registry],
  });
  const eventsAppendedTotal = new Counter({
    name: 'torrentedge_events_appended_total',
    help: 'Events appended to the log, by event type',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const workerHeartbeatsTotal = new Counter({
    name: 'torrentedge_worker_heartbeats_total',
    help: 'Worker heartbeats received by this api replica',
    registers: [registry],
  });
  const projectionLagSeconds = new Histogram({
    name: 'torrentedge_projection_lag_seconds',
    help: 'Time from an event being recorded to its projection commit',
    labelNames: ['projection'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const projectionPosition = new Gauge({
    name: 'torrentedge_projection_position',
    help: 'Highest log position each projection has committed',
    labelNames: ['projection'] as const,
    registers: [registry],
  });
  const logHeadPosition = new Gauge({
    name: 'torrentedge_event_log_head_position',
    help: 'Highest position appended to the event log',
    registers: [registry],
  });
  const relayPublishedTotal = new Counter({
    name: 'torrentedge_relay_published_events_total',
    help: 'Events the relay published to the bus and the broker acknowledged',
    registers: [registry],
  });
  const relayDirectivesTotal = new Counter({
    name: 'torrentedge_relay_directives_total',
    help: 'JOB_ASSIGNED directives the relay dispatched',
    registers: [registry],
  });
  const relayLagEvents = new Gauge({
    name: 'torrentedge_relay_lag_events',
    help: 'Log head position minus the highest position the relay has published',
    registers: [registry],
  });
  const consumedTotal = new Counter({
    name: 'torrentedge_consumed_messages_total',
    help: 'Messages consumed, by consumer group and outcome (handled, duplicate, retried, dead-lettered)',
    labelNames: ['group', 'outcome'] as const,
    registers: [registry],
  });
  const consumerLag = new Gauge({
    name: 'torrentedge_consumer_lag_messages',
    help: 'End offset minus committed offset, per consumer group, topic and partition',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [registry],
  });
  const dispatchLatencySeconds = new Histogram({
    name: 'torrentedge_dispatch_latency_seconds',
    help: 'From a job being assigned to its directive being handled by the node',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const staleFencingTokens = new Counter({
    name: 'torrentedge_stale_fencing_token_rejections_total',
    help: 'Job commands rejected for carrying a superseded fencing token',
    registers: [registry],
  });

  return {
    registry,
    httpRequestDuration,
    commandsTotal,
    workerHeartbeatsTotal,
    eventsAppendedTotal,
    projectionLagSeconds,
    projectionPosition,
    logHeadPosition,
    relayPublishedTotal,
    relayDirectivesTotal,
    relayLagEvents,
    consumedTotal,
    consumerLag,
    dispatchLatencySeconds,
    staleFencingTokens,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
