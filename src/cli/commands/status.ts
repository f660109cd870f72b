import type { Config } from '../../config.ts';
import { callApi } from '../apiClient.ts';

interface TransferSummary {
  id: string;
  name: string | null;
  status: string;
  progress: number;
  nodes: { total: number; completed: number };
  createdAt: string;
}

export async function runStatus(config: Config, options: { transferId?: string; json: boolean }): Promise<number> {
  const path = options.transferId === undefined ? '/api/transfers?limit=50' : `/api/transfers/${encodeURIComponent(options.transferId)}`;
  const response = await callApi(config, 'GET', path);
  if (options.json || response.status !== 200) {
    console.log(JSON.stringify(response.body, null, 2));
    return response.status === 200 ? 0 : 1;
  }
  const items = options.transferId === undefined ? (response.body as { items: TransferSummary[] }).items : [response.body as TransferSummary];
  if (items.length === 0) console.log('no transfers');
  for (const t of items) {
    const percent = `${(t.progress * 100).toFixed(1)}%`.padStart(6);
    console.log(`${t.id}  ${t.status.padEnd(9)} ${percent}  nodes ${t.nodes.completed}/${t.nodes.total}  ${t.name ?? ''}`);
  }
  return 0;
}
