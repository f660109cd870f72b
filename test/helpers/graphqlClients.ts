import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphqlResponse<T = Record<string, unknown>> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** A POST to /graphql; `headers` may add X-Request-ID. */
export async function graphql<T = Record<string, unknown>>(baseUrl: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphqlResponse<T> };
}

/** Pushes received so far, and a way to wait for one that matches. */
export interface LiveSubscription<T> {
  received: Array<{ at: number; value: T }>;
  /** Resolves when a push satisfying `match` arrives (or has arrived since `fromIndex`). */
  next(match: (value: T) => boolean, timeoutMs?: number): Promise<{ at: number; value: T }>;
  close(): Promise<void>;
}

function liveSubscription<T>(close: () => Promise<void>) {
  const received: Array<{ at: number; value: T }> = [];
  const waiters = new Set<() => void>();
  const push = (value: T) => {
    received.push({ at: performance.now(), value });
    for (const wake of waiters) wake();
  };
  const live: LiveSubscription<T> = {
    received,
    next(match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find((item) => match(item.value));
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching push within ${timeoutMs} ms (${received.length} received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close,
  };
  return { live, push };
}

/** A subscription over SSE (GraphQL over SSE, distinct connections): POST with Accept: text/event-stream. */
export async function subscribeSse<T>(baseUrl: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}) {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  if (response.status !== 200 || response.body === null) return { status: response.status, live: undefined };
  const { live, push } = liveSubscription<T>(async () => abort.abort());
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
          if (/^event: next/m.test(message) && data !== '') push((JSON.parse(data) as { data: T }).data);
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return { status: 200, live };
}

/** A subscription over graphql-ws; the token goes in the connection params as the dashboard sends it. */
export function subscribeWs<T>(baseUrl: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}) {
  let client: Client | undefined;
  const closed = new Promise<number>((resolve) => {
    client = createClient({
      url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      on: { closed: (event) => resolve((event as { code: number }).code) },
    });
  });
  const ws = client!;
  const { live, push } = liveSubscription<T>(async () => ws.dispose());
  const errors: unknown[] = [];
  ws.subscribe<T>({ query, variables }, {
    next: (result) => { if (result.data) push(result.data); },
    error: (error) => errors.push(error),
    complete: () => {},
  });
  return { live, closed, errors };
}
