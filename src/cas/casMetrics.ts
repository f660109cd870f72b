import { Counter, type Registry } from 'prom-client';

/** The store's counters, registered on the process's registry (no global default registry). */
export function createCasMetrics(registry: Registry) {
  return {
    chunksStored: new Counter({
      name: 'torrentedge_cas_chunks_stored_total',
      help: 'Chunks verified and written to the content store',
      registers: [registry],
    }),
    storedBytes: new Counter({
      name: 'torrentedge_cas_stored_bytes_total',
      help: 'Bytes of chunks verified and written to the content store',
      registers: [registry],
    }),
    dedupBytes: new Counter({
      name: 'torrentedge_cas_dedup_bytes_total',
      help: 'Bytes of chunks offered to the store that it already held, so were not written again',
      registers: [registry],
    }),
    verifyFailures: new Counter({
      name: 'torrentedge_cas_chunk_verify_failures_total',
      help: 'Content that did not match its SHA-256: a chunk offered to the store, or a file rebuilt from chunks',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    hits: new Counter({
      name: 'torrentedge_cas_hits_total',
      help: 'Chunk lookups (hasChunk, readChunk) that found the chunk',
      registers: [registry],
    }),
    misses: new Counter({
      name: 'torrentedge_cas_misses_total',
      help: 'Chunk lookups (hasChunk, readChunk) that did not find the chunk',
      registers: [registry],
    }),
    gcRemovedBytes: new Counter({
      name: 'torrentedge_cas_gc_removed_bytes_total',
      help: 'Bytes of unpinned chunks and objects removed by garbage collection',
      registers: [registry],
    }),
  };
}

export type CasMetrics = ReturnType<typeof createCasMetrics>;

/** The same counts in memory, for callers and tests without a registry. */
export interface CasStats {
  chunksStored: number;
  storedBytes: number;
  dedupBytes: number;
  verifyFailures: number;
  gcRemovedBytes: number;
}
