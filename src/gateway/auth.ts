/**
 * API-key checks. A key may come in the upgrade request (`x-api-key: KEY` or
 * `Authorization: Bearer KEY`) or, for clients that cannot set headers (browsers), as `apiKey` in
 * `session.start`. A key in a header is checked at connect; without one the connection waits for
 * `session.start`. With `server.authRequired` false nothing is asked for.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface AuthPolicy {
  required: boolean;
  /** Accepted keys. */
  keys: readonly string[];
}

/** Outcome of the header check: `open` when auth is off, `absent` when no key was sent. */
export type HeaderAuth = 'open' | 'ok' | 'bad' | 'absent';

/** The key a request carries in `x-api-key` or `Authorization: Bearer`, if any. */
export function keyFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const direct = headers['x-api-key'];
  const first = Array.isArray(direct) ? direct[0] : direct;
  if (first && first.trim() !== '') return first.trim();

  const authorization = headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match ? match[1] : undefined;
}

/**
 * True when `key` is one of `keys`. Keys are compared as SHA-256 digests with a constant-time
 * comparison, so neither content nor length leaks through timing.
 */
export function isValidKey(key: string | undefined, keys: readonly string[]): boolean {
  if (key === undefined || key === '') return false;
  const digest = sha256(key);
  let found = false;
  for (const accepted of keys) {
    // No early exit: every key is compared.
    if (timingSafeEqual(digest, sha256(accepted))) found = true;
  }
  return found;
}

/** Checks the upgrade request's headers against the policy. */
export function authorizeHeaders(policy: AuthPolicy, headers: IncomingHttpHeaders): HeaderAuth {
  if (!policy.required) return 'open';
  const key = keyFromHeaders(headers);
  if (key === undefined) return 'absent';
  return isValidKey(key, policy.keys) ? 'ok' : 'bad';
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
