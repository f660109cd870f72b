import { readFile } from 'node:fs/promises';
import { generatedTokenFile } from '../api/auth/tokens.ts';
import type { Config } from '../config.ts';

/** The token a client command sends: TORRENTEDGE_TOKEN / --token, else the one `start` generated. */
export async function clientToken(config: Config): Promise<string> {
  if (config.adminToken !== undefined) return config.adminToken;
  try {
    return (await readFile(generatedTokenFile(config.dataDir), 'utf8')).trim();
  } catch {
    throw new Error('no token: set TORRENTEDGE_TOKEN (or --token), or run `torrentedge start` once to generate one');
  }
}

export interface ApiResponse {
  status: number;
  body: unknown;
  requestId: string | null;
}

export async function callApi(
  config: Config,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; requestId?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${await clientToken(config)}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
  let response: Response;
  try {
    response = await fetch(`${config.apiUrl}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    const cause = (error as Error).cause;
    throw new Error(`cannot reach the api at ${config.apiUrl}: ${cause instanceof Error ? cause.message : (error as Error).message}`, { cause: error });
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, requestId: response.headers.get('x-request-id') };
}
