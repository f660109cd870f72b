import { realpath } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Config } from '../../config.ts';
import { callApi } from '../apiClient.ts';
import { runWatch } from './watch.ts';

/**
 * `torrentedge push PATH`: distributes a local file or directory. This node's worker seeds it
 * (it must allow the path: TORRENTEDGE_PUSH_ROOTS), every target fetches it from the swarm.
 */
export async function runPush(config: Config, path: string, flags: { name?: string; nodes?: string; requestId?: string; watch: boolean }): Promise<number> {
  const absolute = await realpath(path);
  const body: Record<string, unknown> = { source: { url: pathToFileURL(absolute).href }, seedNode: config.worker.nodeId, autoStart: true };
  if (flags.name !== undefined) body.name = flags.name;
  if (flags.nodes !== undefined) body.targets = { kind: 'nodes', nodeIds: flags.nodes.split(',').filter(Boolean) };
  const response = await callApi(config, 'POST', '/api/torrent/create', { body, ...(flags.requestId !== undefined ? { requestId: flags.requestId } : {}) });
  console.log(JSON.stringify(response.body, null, 2));
  if (response.status !== 201) return 1;
  return flags.watch ? runWatch(config, (response.body as { id: string }).id) : 0;
}
