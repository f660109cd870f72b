#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { parseArgs } from 'node:util';
import { ConfigError, configTable, loadConfig, type ConfigFlags } from '../config.ts';

// V8's code for the modules a command imports (each command imports its own, below), kept on disk
// between runs (under the OS temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns it off): importing the
// worker's modules took 0.56-0.60 s, 0.37-0.38 s from the cache.
enableCompileCache();

const usage = `torrentedge <command> [options]

Commands:
  start                      control plane (api, projector, relay) and one local worker, on embedded defaults
                             or on DATABASE_URL / KAFKA_BROKERS / REDIS_URL
  serve [--no-projector]     the api for production (DATABASE_URL), with the projector unless told not to
  relay                      mirror the event log into Kafka (KAFKA_BROKERS) and dispatch job directives
  worker [--node-id ID] [--labels k=v,…] [--cas-dir DIR]
                             one node's worker: fenced leases, webtorrent over the CAS, reports to the api
  demo [--nodes N] [--size SIZE] [--json]
                             control plane, N local workers and an HTTP origin: one artifact to every node
  migrate                    apply the SQL migrations
  replay --projection NAME   rebuild a read model from the log (transfers with jobs, chunks, nodes, all)
  create (--magnet URI | --url URL) [--name N] [--auto-start] [--nodes a,b] [--request-id ID]
  status [TRANSFER_ID] [--json]
  push PATH [--name N] [--nodes a,b] [--no-watch]
                             seed a local file or directory from this node to the fleet
  watch TRANSFER_ID          live per-node progress until the transfer ends (exit 0 when completed)

Configuration (flag, then environment, then default):
${configTable.map(([variable, flag, fallback, what]) => `  ${flag.padEnd(15)} ${variable.padEnd(24)} ${fallback.padEnd(22)} ${what}`).join('\n')}
`;

const configOptions = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  token: { type: 'string' },
  'tokens-file': { type: 'string' },
  'api-url': { type: 'string' },
  'log-level': { type: 'string' },
  'kafka-brokers': { type: 'string' },
  'node-id': { type: 'string' },
  labels: { type: 'string' },
  'cas-dir': { type: 'string' },
  'torrent-port': { type: 'string' },
} as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      ...configOptions,
      'no-projector': { type: 'boolean', default: false },
      projection: { type: 'string', multiple: true },
      magnet: { type: 'string' },
      url: { type: 'string' },
      name: { type: 'string' },
      'auto-start': { type: 'boolean', default: false },
      nodes: { type: 'string' },
      'request-id': { type: 'string' },
      json: { type: 'boolean', default: false },
      size: { type: 'string' },
      'no-watch': { type: 'boolean', default: false },
    },
  });
  const flags: ConfigFlags = Object.fromEntries(Object.keys(configOptions).flatMap((key) => {
    const value = values[key as keyof typeof configOptions];
    return value === undefined ? [] : [[key, value]];
  }));
  const config = loadConfig(process.env, flags);

  // Each command loads its own modules only: a worker has no use for the api's fastify and GraphQL,
  // and every module loaded stays in its heap, which each full collection marks again.
  switch (command) {
    case 'start':
      await (await import('./commands/serve.ts')).runControlPlane(config, { projector: true, relay: true, banner: true, localWorker: true });
      return -1; // keeps running until a signal
    case 'serve':
      await (await import('./commands/serve.ts')).runControlPlane(config, { projector: !values['no-projector'], relay: false, banner: false, localWorker: false });
      return -1;
    case 'relay':
      await (await import('./commands/relay.ts')).runRelay(config);
      return -1;
    case 'push':
      if (positionals[0] === undefined) throw new Error('push needs a path');
      return (await import('./commands/push.ts')).runPush(config, positionals[0], {
        watch: !values['no-watch'],
        ...(values.name !== undefined ? { name: values.name } : {}),
        ...(values.nodes !== undefined ? { nodes: values.nodes } : {}),
        ...(values['request-id'] !== undefined ? { requestId: values['request-id'] } : {}),
      });
    case 'watch':
      if (positionals[0] === undefined) throw new Error('watch needs a transfer id');
      return (await import('./commands/watch.ts')).runWatch(config, positionals[0]);
    case 'demo':
      return (await import('./commands/demo.ts')).runDemoCommand({ nodes: values.nodes, size: values.size, json: values.json });
    case 'worker':
      await (await import('./commands/worker.ts')).runWorker(config);
      return -1;
    case 'migrate':
      await (await import('./commands/migrate.ts')).runMigrate(config);
      return 0;
    case 'replay':
      await (await import('./commands/replay.ts')).runReplay(config, values.projection ?? []);
      return 0;
    case 'create':
      return (await import('./commands/create.ts')).runCreate(config, {
        autoStart: values['auto-start'],
        ...(values.magnet !== undefined ? { magnet: values.magnet } : {}),
        ...(values.url !== undefined ? { url: values.url } : {}),
        ...(values.name !== undefined ? { name: values.name } : {}),
        ...(values.nodes !== undefined ? { nodes: values.nodes } : {}),
        ...(values['request-id'] !== undefined ? { requestId: values['request-id'] } : {}),
      });
    case 'status':
      return (await import('./commands/status.ts')).runStatus(config, { json: values.json, ...(positionals[0] !== undefined ? { transferId: positionals[0] } : {}) });
    default:
      process.stderr.write(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // Our own failures read as a sentence; anything else is a bug and shows its stack.
    const expected = error instanceof ConfigError || (error instanceof Error && error.constructor === Error);
    const text = error instanceof Error ? (expected ? error.message : (error.stack ?? error.message)) : String(error);
    process.stderr.write(`torrentedge: ${text}\n`);
    process.exitCode = 1;
  },
);
