import type { Config } from '../../config.ts';
import { createLogger } from '../../observability/logger.ts';
import { createControlPlane } from '../../runtime/controlPlane.ts';
import { startTracing } from '../../observability/tracing.ts';
import { stopOnSignal } from '../runUntilSignal.ts';
import { randomBytes } from 'node:crypto';
import { nodeSubject } from '../../api/auth/tokens.ts';
import { createWorkerDaemon } from '../../workers/workerDaemon.ts';

/**
 * `start` (the main job, embedded defaults unless DATABASE_URL is set) and `serve` (the api for
 * production, optionally without the projector) share this.
 */
export async function runControlPlane(config: Config, options: { projector: boolean; relay: boolean; banner: boolean; localWorker: boolean }): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const tracing = startTracing({ serviceName: 'torrentedge-control-plane', ...(config.otlpTracesEndpoint ? { otlpEndpoint: config.otlpTracesEndpoint } : {}) });
  // The local worker's token lives only in this process: it is generated at every start.
  const localToken = `te_node_${randomBytes(24).toString('base64url')}`;
  const { nodeId } = config.worker;
  const plane = await createControlPlane(config, { logger }, {
    projector: options.projector,
    relay: options.relay,
    ...(options.localWorker ? { localTokens: [{ subject: nodeSubject(nodeId), scopes: ['node'], token: localToken }] } : {}),
  });
  const url = await plane.listen();
  const worker = options.localWorker ? createWorkerDaemon({ ...config, apiUrl: url, worker: { ...config.worker, token: localToken } }, { logger }) : undefined;
  stopOnSignal(logger, async () => {
    await worker?.stop();
    await plane.stop();
    await tracing.shutdown();
  });
  await worker?.start();
  if (!options.banner) return;
  const store = config.databaseUrl === undefined ? `embedded PostgreSQL (PGlite) in ${config.dataDir}` : 'PostgreSQL at DATABASE_URL';
  const bus = config.kafkaBrokers === undefined ? 'in-process' : `Kafka at ${config.kafkaBrokers.join(',')}`;
  const token =
    plane.adminToken?.source === 'generated'
      ? `admin token: cat ${plane.adminToken.path}${plane.adminToken.created ? ' (generated now)' : ''}`
      : plane.adminToken?.source === 'environment'
        ? 'admin token: the value of TORRENTEDGE_TOKEN'
        : `tokens: from ${config.tokensFile}`;
  process.stderr.write(
    [
      '',
      `TorrentEdge control plane on ${url}`,
      `  store:   ${store}`,
      `  bus:     ${bus}`,
      ...(worker === undefined ? [] : [`  worker:  node ${nodeId}, CAS in ${config.worker.casDir}, artifacts in ${config.dataDir}/artifacts`]),
      `  ${token}`,
      `  try:     curl -H "Authorization: Bearer $(cat ${config.dataDir}/admin-token)" ${url}/api/transfers`,
      `  api:     ${url}/api/openapi.json · health ${url}/api/health · metrics ${url}/metrics`,
      '',
      '',
    ].join('\n'),
  );
}
