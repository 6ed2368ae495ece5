/** Errors the client throws or rejects with; `code` is stable, the message is for people. */

export const CLIENT_ERROR_CODES = {
  /** The socket could not be opened, or closed before the session started. */
  connectFailed: 'UT_CLIENT_CONNECT_FAILED',
  /** The server answered `session.start` with an error event. */
  startRejected: 'UT_CLIENT_START_REJECTED',
  timeout: 'UT_CLIENT_TIMEOUT',
  /** A call on a client in the wrong state (sending before `start`, after `close`). */
  badState: 'UT_CLIENT_BAD_STATE',
  /** A codec the SDK cannot encode or decode here. */
  unsupportedCodec: 'UT_CLIENT_UNSUPPORTED_CODEC',
  badWav: 'UT_CLIENT_BAD_WAV',
} as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[keyof typeof CLIENT_ERROR_CODES];

export class UndertoneClientError extends Error {
  override name = 'UndertoneClientError';

  constructor(
    readonly code: ClientErrorCode | string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
