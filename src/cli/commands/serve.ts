import type { Config } from '../../config.ts';
import { createLogger } from '../../observability/logger.ts';
import { createControlPlane } from '../../runtime/controlPlane.ts';
import { startTracing } from '../../observability/tracing.ts';
import { stopOnSignal } from '../runUntilSignal.ts';

/**
 * `start` (the main job, embedded defaults unless DATABASE_URL is set) and `serve` (the api for
 * production, optionally without the projector) share this.
 */
export async function runControlPlane(config: Config, options: { projector: boolean; relay: boolean; banner: boolean }): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const tracing = startTracing({ serviceName: 'torrentedge-control-plane', ...(config.otlpTracesEndpoint ? { otlpEndpoint: config.otlpTracesEndpoint } : {}) });
  const plane = await createControlPlane(config, { logger }, { projector: options.projector, relay: options.relay });
  const url = await plane.listen();
  stopOnSignal(logger, async () => {
    await plane.stop();
    await tracing.shutdown();
  });
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
      `  ${token}`,
      `  try:     curl -H "Authorization: Bearer $(cat ${config.dataDir}/admin-token)" ${url}/api/transfers`,
      `  api:     ${url}/api/openapi.json · health ${url}/api/health · metrics ${url}/metrics`,
      '',
      '',
    ].join('\n'),
  );
}
