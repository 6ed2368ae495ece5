/**
 * NTP-style estimate of the offset between the client's clock and the server's, from `ping` /
 * `pong` pairs. Each pong gives one sample:
 *
 *   rtt    = receivedAt - sentAt
 *   offset = serverTimeMs - (sentAt + receivedAt) / 2     (server clock minus client clock)
 *
 * The server stamps one instant, so the error of a sample is at most rtt / 2. The estimate is the
 * sample with the smallest round trip among the last `windowSize`, since a short round trip means
 * little queueing on either path.
 */

export interface ClockSample {
  /** Server clock minus client clock, in ms. */
  offsetMs: number;
  rttMs: number;
  /** Client time at which the pong arrived, in ms. */
  atMs: number;
}

export interface ClockEstimate {
  /** Server clock minus client clock, in ms; add it to a client time to get server time. */
  offsetMs: number;
  /** Round trip of the sample the estimate comes from, in ms. */
  rttMs: number;
  /** Largest possible error of `offsetMs`: half the round trip, in ms. */
  errorBoundMs: number;
  /** Samples in the window. */
  samples: number;
}

export class ClockSync {
  private readonly window: ClockSample[] = [];

  /** @param windowSize samples kept, default 8. */
  constructor(private readonly windowSize = 8) {}

  /**
   * Adds the sample of one pong. Returns it, or `undefined` when the times are impossible (pong
   * before ping, non-finite numbers), which are ignored.
   */
  addSample(sentAtMs: number, serverTimeMs: number, receivedAtMs: number): ClockSample | undefined {
    const rttMs = receivedAtMs - sentAtMs;
    if (![sentAtMs, serverTimeMs, receivedAtMs].every(Number.isFinite) || rttMs < 0)
      return undefined;

    const sample = {
      offsetMs: serverTimeMs - (sentAtMs + receivedAtMs) / 2,
      rttMs,
      atMs: receivedAtMs,
    };
    this.window.push(sample);
    if (this.window.length > this.windowSize) this.window.shift();
    return sample;
  }

  /** The best estimate so far, or `undefined` before the first pong. */
  estimate(): ClockEstimate | undefined {
    let best: ClockSample | undefined;
    for (const s of this.window) if (!best || s.rttMs < best.rttMs) best = s;
    if (!best) return undefined;

    return {
      offsetMs: best.offsetMs,
      rttMs: best.rttMs,
      errorBoundMs: best.rttMs / 2,
      samples: this.window.length,
    };
  }

  /** Converts a client time to the server's clock (identity before the first pong). */
  toServerTime(clientTimeMs: number): number {
    return clientTimeMs + (this.estimate()?.offsetMs ?? 0);
  }

  reset(): void {
    this.window.length = 0;
  }
}
