/**
 * The writing half of a connection: server events as JSON text frames, agent audio as binary
 * frames with the protocol header. It bounds what waits in the socket: once `maxQueuedFrames`
 * sends are not yet handed to the OS (a client that stopped reading), further agent audio is
 * dropped and the owner is told once per overflow episode. Events are never dropped: they are
 * small and a client cannot make sense of the call without them.
 */
import { encodeFrame, FRAME_KIND } from '../protocol/frame-header.js';
import type { ServerEvent } from '../protocol/messages.js';
import type { AgentAudioFrame } from '../pipeline/types.js';
import type { TransportSocket } from './transport.js';

export interface ConnectionWriterOptions {
  /** Sends waiting in the socket before agent audio is dropped. */
  maxQueuedFrames: number;
  /** Called on the first dropped frame of an overflow episode. */
  onOverflow(): void;
}

export class ConnectionWriter {
  private pending = 0;
  private overflowing = false;
  private droppedFrames = 0;
  private readonly onSent = (): void => {
    this.pending -= 1;
    // The episode ends once the socket has drained to half the cap, so a client hovering at the
    // limit is not told again on every frame.
    if (this.overflowing && this.pending <= this.options.maxQueuedFrames / 2)
      this.overflowing = false;
  };

  constructor(
    private readonly socket: TransportSocket,
    private readonly options: ConnectionWriterOptions,
  ) {}

  /** Agent audio frames dropped because the client did not keep up. */
  get dropped(): number {
    return this.droppedFrames;
  }

  /** Sends waiting in the socket. */
  get queued(): number {
    return this.pending;
  }

  sendEvent(event: ServerEvent): void {
    if (!this.socket.isOpen) return;
    this.pending += 1;
    this.socket.sendText(JSON.stringify(event), this.onSent);
  }

  /** Returns false when the frame was dropped (socket closed or queue full). */
  sendAudio(frame: AgentAudioFrame): boolean {
    if (!this.socket.isOpen) return false;
    if (this.pending >= this.options.maxQueuedFrames) {
      this.droppedFrames += 1;
      if (!this.overflowing) {
        this.overflowing = true;
        this.options.onOverflow();
      }
      return false;
    }

    const header = {
      kind: FRAME_KIND.agentAudio,
      stream: frame.stream,
      seq: frame.seq,
      timestampMs: frame.timestampMs,
    };
    this.pending += 1;
    this.socket.sendBinary(encodeFrame(header, frame.payload), this.onSent);
    return true;
  }
}
