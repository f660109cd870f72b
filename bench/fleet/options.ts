import { parseArgs } from 'node:util';
import { parseSize } from '../../src/cli/commands/demo.ts';
import { positive } from '../lib/positiveOption.ts';

export const systemNames = ['torrentedge', 'direct', 'webtorrent', 'bittorrent'] as const;
export type SystemName = (typeof systemNames)[number];

export interface FleetOptions {
  nodes: number;
  sizeBytes: number;
  nodeMbit: number;
  originMbit: number;
  racks: number;
  /** Each rack uplink's rate, each way; undefined leaves the uplinks unshaped. */
  rackMbit: number | undefined;
  systems: SystemName[];
  /** Per system; undefined means 2·N·T_lb + 60 s (enough for N direct pulls). */
  timeoutSeconds: number | undefined;
  plotPath: string | undefined;
  /** The PostgreSQL server the TorrentEdge control plane gets a fresh database on; undefined runs it on the embedded PGlite. */
  databaseServerUrl: string | undefined;
  /** Extra node flags for each TorrentEdge worker (e.g. --trace-gc, V8 heap settings). */
  workerNodeArgs: string[];
  json: boolean;
  help: boolean;
}

export const usage = `usage: npm run bench -- fleet [options]      (as root: it builds network namespaces)

An origin host and N node hosts, each in its own network namespace (veth pairs to a bridge,
198.18.0.0/15), every host's upload and download shaped with tc tbf. The same artifact goes to
every node with each system in turn, under the same shaping:
  torrentedge  the control plane on the host side, one worker per node namespace
  direct       every node pulls the file from the origin over HTTP (curl)
  webtorrent   stock webtorrent (default settings, no DHT/LSD/NAT) and a local HTTP tracker
  bittorrent   aria2c from Debian, seeded by the origin host, same tracker

options:
  --nodes N          node hosts (default 8)
  --size SIZE        artifact size, e.g. 128MiB, 1GiB (default 128MiB)
  --node-mbit R      each node's upload and download, Mbit/s (default 100)
  --origin-mbit R    the origin's upload and download, Mbit/s (default: --node-mbit)
  --racks K          group nodes round-robin under K rack bridges (default 0: one flat bridge)
  --rack-mbit R      each rack uplink's rate each way, Mbit/s (default unshaped)
  --systems LIST     comma-separated subset of ${systemNames.join(',')} (default all)
  --timeout S        seconds per system before it counts as failed (default 2·N·T_lb + 60)
  --database URL     the PostgreSQL server TorrentEdge's control plane runs on, in a database of
                     its own dropped at the end (default $BENCH_DATABASE_URL or
                     postgres://postgres@127.0.0.1:5432/postgres); "embedded" runs it on PGlite
                     in the harness process, as \`npm start\` does
  --node-arg ARG     an extra node flag for each TorrentEdge worker (repeatable), e.g.
                     --node-arg=--max-semi-space-size=8
  --plot PATH        write the CDF of node completion times as SVG (default docs/fleet-cdf.svg;
                     --plot none to skip)
  --json             print one JSON object instead of the table
  --help             this text`;

export function parseOptions(args: string[], env: NodeJS.ProcessEnv): FleetOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      nodes: { type: 'string' },
      size: { type: 'string' },
      'node-mbit': { type: 'string' },
      'origin-mbit': { type: 'string' },
      racks: { type: 'string' },
      'rack-mbit': { type: 'string' },
      systems: { type: 'string' },
      timeout: { type: 'string' },
      plot: { type: 'string' },
      database: { type: 'string' },
      'node-arg': { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const nodes = positive('nodes', values.nodes, 8, true);
  if (nodes > 200) throw new Error('--nodes is at most 200 (one /24 of addresses)');
  const nodeMbit = positive('node-mbit', values['node-mbit'], 100, false);
  const racks = values.racks === '0' ? 0 : positive('racks', values.racks, 0, true);
  if (racks > nodes) throw new Error('--racks cannot exceed --nodes');
  const systems = (values.systems ?? systemNames.join(',')).split(',').map((name) => name.trim());
  for (const name of systems) if (!(systemNames as readonly string[]).includes(name)) throw new Error(`--systems: unknown system "${name}"`);
  return {
    nodes,
    sizeBytes: values.size === undefined ? 128 * 2 ** 20 : parseSize(values.size),
    nodeMbit,
    originMbit: positive('origin-mbit', values['origin-mbit'], nodeMbit, false),
    racks,
    rackMbit: values['rack-mbit'] === undefined ? undefined : positive('rack-mbit', values['rack-mbit'], 1, false),
    systems: systems as SystemName[],
    timeoutSeconds: values.timeout === undefined ? undefined : positive('timeout', values.timeout, 1, false),
    plotPath: values.plot === 'none' ? undefined : (values.plot ?? 'docs/fleet-cdf.svg'),
    databaseServerUrl: databaseServer(values.database ?? env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
    workerNodeArgs: values['node-arg'],
    json: values.json,
    help: values.help,
  };
}

function databaseServer(value: string): string | undefined {
  if (value === 'embedded') return undefined;
  if (!/^postgres(ql)?:\/\//.test(value)) throw new Error(`--database takes a postgres:// URL or "embedded", not "${value}"`);
  return value;
}
