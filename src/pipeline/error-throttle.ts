/**
 * Keeps a stream of bad audio from flooding the client with identical errors: the first error of
 * a code goes out at once; more of the same code within `windowMs` of session audio are counted
 * instead, and the next one sent after the window carries that count as `repeated`.
 */
export interface ThrottledError {
  code: string;
  message: string;
  /** Errors of this code suppressed since the last one sent. */
  repeated?: number;
}

export class ErrorThrottle {
  private readonly lastSentMs = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  /** @param windowMs quiet time per code, in ms of session audio (default 1000). */
  constructor(private readonly windowMs = 1000) {}

  /** The error to send now, or undefined when it is counted instead. */
  admit(code: string, message: string, nowMs: number): ThrottledError | undefined {
    const last = this.lastSentMs.get(code);
    if (last !== undefined && nowMs - last < this.windowMs) {
      this.suppressed.set(code, (this.suppressed.get(code) ?? 0) + 1);
      return undefined;
    }
    this.lastSentMs.set(code, nowMs);
    const repeated = this.suppressed.get(code) ?? 0;
    this.suppressed.delete(code);
    return repeated > 0 ? { code, message, repeated } : { code, message };
  }
}
