/**
 * Where the load goes. The load tester only ever targets the machine it runs on: any host other
 * than 127.0.0.1, localhost or ::1 is refused before a socket opens.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export class TargetError extends Error {
  readonly code = 'UT_LOADTEST_BAD_TARGET';
}

export interface Target {
  /** The voice endpoint, `ws://host:port/v1/stream`. */
  wsUrl: string;
  /** `http://host:port`, for `/metrics` and `/readyz`. */
  httpUrl: string;
}

/**
 * Checks `url` and fills in the voice path when it has none (`ws://127.0.0.1:8080` becomes
 * `ws://127.0.0.1:8080/v1/stream`). Throws `TargetError` for a non-loopback host or a bad URL.
 */
export function resolveTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TargetError(`--url ${url} is not a URL (expected ws://127.0.0.1:PORT)`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'http:') {
    throw new TargetError(`--url ${url}: only ws:// (or http://) on loopback is supported`);
  }
  if (!LOOPBACK_HOSTS.has(parsed.hostname.toLowerCase())) {
    throw new TargetError(
      `--url ${url}: the load tester only targets this machine (127.0.0.1, localhost or ::1), ` +
        `not ${parsed.hostname}`,
    );
  }
  const path = parsed.pathname === '/' || parsed.pathname === '' ? '/v1/stream' : parsed.pathname;
  return {
    wsUrl: `ws://${parsed.host}${path}${parsed.search}`,
    httpUrl: `http://${parsed.host}`,
  };
}
