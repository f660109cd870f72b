// The dashboard's connection: a token kept in sessionStorage (never logged, never in the URL once
// read), and one graphql-ws client for queries and subscriptions, so the token travels only in
// the connection params, never in a URL that a proxy could log.

const storageKey = 'torrentedge.token';

/** The token from the URL fragment (#token=…), then sessionStorage, then a prompt. */
export function readToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get('token');
  if (fromFragment) {
    sessionStorage.setItem(storageKey, fromFragment);
    // Drop it from the address bar and the history entry.
    history.replaceState(null, '', location.pathname + location.search);
  }
  let token = sessionStorage.getItem(storageKey);
  if (!token) {
    token = window.prompt('TorrentEdge token (scope read):') ?? '';
    if (token) sessionStorage.setItem(storageKey, token);
  }
  return token;
}

export function forgetToken() {
  sessionStorage.removeItem(storageKey);
}

/** A graphql-ws client on this origin's /graphql. */
export function connect(token, onStatus) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  return window.graphqlWs.createClient({
    url,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    shouldRetry: (event) => !(event && event.code === 4403),
    on: {
      connected: () => onStatus('live'),
      closed: (event) => onStatus(event && event.code === 4403 ? 'refused' : 'down'),
    },
  });
}

/** One query's data; errors reject. */
export function query(client, text, variables = {}) {
  return new Promise((resolve, reject) => {
    let result;
    client.subscribe({ query: text, variables }, {
      next: (value) => { result = value; },
      error: reject,
      complete: () => (result && result.errors ? reject(new Error(result.errors[0].message)) : resolve(result && result.data)),
    });
  });
}

/** A subscription; returns the function that ends it. */
export function subscribe(client, text, variables, onData) {
  return client.subscribe({ query: text, variables }, {
    next: (value) => { if (value.data) onData(value.data); },
    error: () => {},
    complete: () => {},
  });
}

export const formatBytes = (bytes) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
};
