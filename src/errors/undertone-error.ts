/**
 * The one error class of the server. `code` is stable (see `protocol/error-codes.ts` for the
 * codes clients see); `category` decides retry; `closeCode` is set when the error ends the
 * WebSocket connection.
 */
export type ErrorCategory =
  | 'bad-input'
  | 'auth'
  | 'rate-limit'
  | 'network'
  | 'upstream'
  | 'internal';

export interface UndertoneErrorOptions {
  category?: ErrorCategory;
  /** True when the session can go on after this error. */
  recoverable?: boolean;
  closeCode?: number;
  cause?: unknown;
}

export class UndertoneError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly recoverable: boolean;
  readonly closeCode?: number;

  constructor(code: string, message: string, options: UndertoneErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UndertoneError';
    this.code = code;
    this.category = options.category ?? 'internal';
    this.recoverable = options.recoverable ?? true;
    this.closeCode = options.closeCode;
  }

  get retryable(): boolean {
    return (
      this.category === 'network' || this.category === 'rate-limit' || this.category === 'upstream'
    );
  }
}

export const isUndertoneError = (err: unknown): err is UndertoneError =>
  err instanceof UndertoneError;
