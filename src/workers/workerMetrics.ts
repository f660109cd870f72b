import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The worker's own metrics; the CAS, leases and engine add theirs to the same registry. */
export function createWorkerMetrics(registry: Registry) {
  return {
    bytes: new Counter({ name: 'torrentedge_worker_bytes_total', help: 'Artifact bytes by where they came from', labelNames: ['source'] as const, registers: [registry] }),
    chunksReported: new Counter({ name: 'torrentedge_worker_chunks_reported_total', help: 'Verified chunks reported to the api, by source', labelNames: ['source'] as const, registers: [registry] }),
    chunksFailed: new Counter({ name: 'torrentedge_worker_chunks_failed_total', help: 'Pieces that failed verification', registers: [registry] }),
    jobsStarted: new Counter({ name: 'torrentedge_worker_jobs_started_total', help: 'Jobs this worker took a lease for', labelNames: ['role'] as const, registers: [registry] }),
    jobSeconds: new Histogram({ name: 'torrentedge_worker_job_seconds', help: 'From lease to materialized artifact', labelNames: ['role'] as const, buckets: [1, 5, 15, 30, 60, 120, 300, 900, 3600], registers: [registry] }),
    activeJobs: new Gauge({ name: 'torrentedge_worker_active_jobs', help: 'Jobs running on this worker', registers: [registry] }),
    heartbeats: new Counter({ name: 'torrentedge_worker_heartbeats_sent_total', help: 'Heartbeats sent to the api', registers: [registry] }),
    jobThroughput: new Gauge({
      name: 'torrentedge_worker_job_throughput_bytes_per_second',
      help: 'Bytes a running job took in (origin, peers) over the last second; the series goes when the job ends',
      labelNames: ['transfer'] as const,
      registers: [registry],
    }),
    peers: new Gauge({ name: 'torrentedge_worker_peers', help: 'Peers connected across all segments', registers: [registry] }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
