import type { Config } from '../../config.ts';
import { callApi } from '../apiClient.ts';

export interface CreateFlags {
  magnet?: string;
  url?: string;
  name?: string;
  autoStart: boolean;
  requestId?: string;
  nodes?: string;
}

export async function runCreate(config: Config, flags: CreateFlags): Promise<number> {
  const body: Record<string, unknown> = { autoStart: flags.autoStart };
  if (flags.magnet !== undefined) body.magnetURI = flags.magnet;
  if (flags.url !== undefined) body.source = { url: flags.url };
  if (flags.name !== undefined) body.name = flags.name;
  if (flags.nodes !== undefined) body.targets = { kind: 'nodes', nodeIds: flags.nodes.split(',').filter(Boolean) };
  const response = await callApi(config, 'POST', '/api/torrent/create', {
    body,
    ...(flags.requestId !== undefined ? { requestId: flags.requestId } : {}),
  });
  console.log(JSON.stringify(response.body, null, 2));
  return response.status === 201 ? 0 : 1;
}
