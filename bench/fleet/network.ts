import { ip, run, tc } from './shell.ts';

/**
 * The fleet's network: a spine bridge on the host side (the control plane binds its address),
 * an origin host and N node hosts, each in its own namespace behind a veth pair. With racks, nodes
 * hang off a rack bridge whose uplink to the spine is a veth pair of its own, shaped separately.
 * Everything is named `tef-*` so a run can remove what an interrupted run left behind.
 */
export interface FleetHost {
  ns: string;
  address: string;
  /** The host-side end of the host's veth: its rx is the host's upload, its tx its download. */
  link: string;
  rack: number | undefined;
}

export interface FleetNetwork {
  apiAddress: string;
  origin: FleetHost;
  nodes: FleetHost[];
  /** Spine-side end of each rack's uplink: tx is traffic into the rack, rx traffic out of it. */
  rackUplinks: string[];
}

export interface NetworkOptions {
  nodes: number;
  racks: number;
  nodeMbit: number;
  originMbit: number;
  rackMbit: number | undefined;
}

const prefix = 'tef-';
const spine = 'tef-spine';
export const apiAddress = '198.18.0.1';

/**
 * Shapes a link's egress with a token bucket. The bucket holds 4 ms of traffic (at least 64 KiB):
 * smaller buckets cost throughput once GSO hands tbf 64 KiB packets, larger ones let bursts past the
 * rate. Measured here: a link shaped to 300 Mbit/s carries 275 Mbit/s of curl goodput (92%; TCP/IP
 * and Ethernet headers alone are 4.4% of a 1514-byte frame).
 */
async function shape(link: string, mbit: number, ns?: string): Promise<void> {
  const burst = Math.max(64 * 1024, Math.round((mbit * 1e6) / 8 * 0.004));
  const args = ['qdisc', 'replace', 'dev', link, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '50ms'];
  await (ns === undefined ? tc(...args) : ip('netns', 'exec', ns, 'tc', ...args));
}

/** Removes every `tef-*` namespace and link: the leftovers of a run that was killed. */
export async function removeFleetNetwork(): Promise<void> {
  const namespaces = (await ip('netns', 'list')).split('\n').map((line) => line.split(' ')[0]!).filter((name) => name.startsWith(prefix));
  for (const ns of namespaces) await ip('netns', 'delete', ns).catch(() => undefined);
  const links = JSON.parse(await ip('-j', 'link', 'show')) as Array<{ ifname: string }>;
  // Deleting one end of a veth removes its peer, so a name may be gone by the time we reach it.
  for (const { ifname } of links.filter((link) => link.ifname.startsWith(prefix))) await ip('link', 'delete', ifname).catch(() => undefined);
}

async function addHost(ns: string, link: string, address: string, bridge: string, options: { upMbit: number; downMbit: number }): Promise<void> {
  await ip('netns', 'add', ns);
  await ip('link', 'add', link, 'type', 'veth', 'peer', 'name', `${link}-x`);
  await ip('link', 'set', `${link}-x`, 'netns', ns);
  await ip('-n', ns, 'link', 'set', `${link}-x`, 'name', 'eth0');
  await ip('-n', ns, 'addr', 'add', `${address}/15`, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip('link', 'set', link, 'master', bridge);
  await ip('link', 'set', link, 'up');
  await shape('eth0', options.upMbit, ns); // the host's upload
  await shape(link, options.downMbit); // the host's download: what the bridge sends it
}

export async function buildFleetNetwork(options: NetworkOptions): Promise<FleetNetwork> {
  await removeFleetNetwork();
  await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=0']).catch(() => undefined);
  await ip('link', 'add', spine, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  await ip('addr', 'add', `${apiAddress}/15`, 'dev', spine);
  await ip('link', 'set', spine, 'up');

  const rackUplinks: string[] = [];
  for (let rack = 1; rack <= options.racks; rack++) {
    const bridge = `tef-r${rack}`;
    await ip('link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    await ip('link', 'set', bridge, 'up');
    const [spineEnd, rackEnd] = [`tef-u${rack}s`, `tef-u${rack}r`];
    await ip('link', 'add', spineEnd, 'type', 'veth', 'peer', 'name', rackEnd);
    await ip('link', 'set', spineEnd, 'master', spine);
    await ip('link', 'set', rackEnd, 'master', bridge);
    await ip('link', 'set', spineEnd, 'up');
    await ip('link', 'set', rackEnd, 'up');
    if (options.rackMbit !== undefined) {
      await shape(spineEnd, options.rackMbit); // into the rack
      await shape(rackEnd, options.rackMbit); // out of the rack
    }
    rackUplinks.push(spineEnd);
  }

  const origin: FleetHost = { ns: 'tef-origin', address: '198.18.0.2', link: 'tef-o', rack: undefined };
  await addHost(origin.ns, origin.link, origin.address, spine, { upMbit: options.originMbit, downMbit: options.originMbit });
  const nodes: FleetHost[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const rack = options.racks > 0 ? ((i - 1) % options.racks) + 1 : undefined;
    const name = `tef-n${String(i).padStart(2, '0')}`;
    const host: FleetHost = { ns: name, address: `198.18.1.${i}`, link: name, rack };
    await addHost(host.ns, host.link, host.address, rack === undefined ? spine : `tef-r${rack}`, { upMbit: options.nodeMbit, downMbit: options.nodeMbit });
    nodes.push(host);
  }
  return { apiAddress, origin, nodes, rackUplinks };
}

export type LinkCounters = Map<string, { rx: number; tx: number }>;

/** Byte counters of every host-side `tef-*` link (ip -s link). */
export async function readCounters(): Promise<LinkCounters> {
  const links = JSON.parse(await ip('-s', '-j', 'link', 'show')) as Array<{ ifname: string; stats64: { rx: { bytes: number }; tx: { bytes: number } } }>;
  return new Map(links.filter((link) => link.ifname.startsWith(prefix)).map((link) => [link.ifname, { rx: link.stats64.rx.bytes, tx: link.stats64.tx.bytes }]));
}

/** Counter growth from `before` to `after`, per link. */
export function counterDelta(before: LinkCounters, after: LinkCounters): LinkCounters {
  return new Map([...after].map(([name, now]) => [name, { rx: now.rx - (before.get(name)?.rx ?? 0), tx: now.tx - (before.get(name)?.tx ?? 0) }]));
}
