/**
 * The uWebSockets.js transport slot. uWebSockets.js is not published on the npm registry (it is
 * installed from GitHub), so it is loaded with a dynamic import and only when
 * `server.transport` is `uws`; a process without it stops at boot with a coded error that says
 * what to do.
 */
import { UndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import type { Transport } from './transport.js';

/** The package name under which uWebSockets.js is installed. */
export const UWS_PACKAGE = 'uWebSockets.js';

/**
 * Loads uWebSockets.js and returns its transport. Throws `UT_ERR_TRANSPORT_UNAVAILABLE` when the
 * package is missing.
 */
export async function createUwsTransport(): Promise<Transport> {
  try {
    // A variable specifier keeps TypeScript from resolving a package that is usually absent.
    const specifier: string = UWS_PACKAGE;
    await import(specifier);
  } catch (err) {
    throw new UndertoneError(
      ERROR_CODES.transportUnavailable,
      `server.transport is "uws" but ${UWS_PACKAGE} is not installed. Install it ` +
        '(npm install uNetworking/uWebSockets.js#v20.52.0) or set server.transport to "ws".',
      { category: 'internal', recoverable: false, cause: err },
    );
  }

  // TODO: the uWebSockets.js adapter itself (its own listener, with HTTP routes bridged) is not
  // written yet; the `Transport` interface in transport.ts is the shape it has to fill.
  throw new UndertoneError(
    ERROR_CODES.transportUnavailable,
    `${UWS_PACKAGE} is installed but this build has no uws adapter yet; ` +
      'set server.transport to "ws".',
    { category: 'internal', recoverable: false },
  );
}
