/**
 * A test double of the Undertone server for SDK tests: it speaks protocol v1 over a real `ws`
 * socket on loopback, numbers its events (`eventIndex`), keeps each session across a dropped
 * socket and replays missed events on resume, and answers `input.text` with a small scripted
 * response (text deltas plus PCM16 agent audio). It runs no models.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  FRAME_KIND,
  decodeFrame,
  encodeFrame,
  type ClientMessage,
  type ServerEvent,
  type ServerEventBody,
  type SessionStartMessage,
} from '../../src/protocol/index.js';

export interface ReceivedFrame {
  seq: number;
  timestampMs: number;
  bytes: number;
}

export interface DoubleSession {
  id: string;
  resumeToken: string;
  start: SessionStartMessage;
  frames: ReceivedFrame[];
  events: ServerEvent[];
  socket: WebSocket | undefined;
  /** Index of the first event emitted while no socket was attached. */
  detachedFromIndex: number | undefined;
  responses: number;
  messages: ClientMessage[];
  /** API key seen in the upgrade header or the start message. */
  apiKey: string | undefined;
}

export interface ServerTestDoubleOptions {
  /** How a `session.start` with a resume token is answered. Default `resume`. */
  onResume?: 'resume' | 'fail-clean' | 'error';
  /** Added to the server's clock in pongs, in ms. */
  clockOffsetMs?: number;
  /** Emit a `prosody` event every this many caller frames (0 = never). Default 5. */
  prosodyEveryFrames?: number;
  /** Agent audio frames per scripted response (20 ms of PCM16 at 16 kHz each). Default 5. */
  responseFrames?: number;
}

export class ServerTestDouble {
  readonly sessions = new Map<string, DoubleSession>();
  /** Upgrade requests to refuse with HTTP 503 before accepting again. */
  refuseConnections = 0;
  connections = 0;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private nextSession = 1;

  private constructor(private readonly options: ServerTestDoubleOptions) {
    this.http = createServer((_req, res) => res.writeHead(404).end());
    this.wss = new WebSocketServer({ noServer: true });
    this.http.on('upgrade', (req, socket, head) => {
      if (this.refuseConnections > 0) {
        this.refuseConnections--;
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.connections++;
      const headerKey = req.headers['x-api-key'];
      this.wss.handleUpgrade(req, socket, head, (ws) =>
        this.accept(ws, typeof headerKey === 'string' ? headerKey : undefined),
      );
    });
  }

  static async start(options: ServerTestDoubleOptions = {}): Promise<ServerTestDouble> {
    const double = new ServerTestDouble(options);
    await new Promise<void>((resolve) => double.http.listen(0, '127.0.0.1', resolve));
    return double;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** The only session, for tests that open one. */
  get session(): DoubleSession {
    const [first] = this.sessions.values();
    if (!first) throw new Error('no session yet');
    return first;
  }

  setResumeBehaviour(mode: NonNullable<ServerTestDoubleOptions['onResume']>): void {
    this.options.onResume = mode;
  }

  /** Emits an event into a session: numbered, logged, sent when a socket is attached. */
  emit(session: DoubleSession, body: ServerEventBody): ServerEvent {
    const event = {
      ...body,
      sessionId: session.id,
      timeMs: session.frames.length * 20,
      eventIndex: session.events.length,
    } as ServerEvent;
    session.events.push(event);
    if (session.socket) session.socket.send(JSON.stringify(event));
    else session.detachedFromIndex ??= event.eventIndex;
    return event;
  }

  /** Kills the TCP connection of every session without a closing handshake. */
  dropAll(): void {
    for (const session of this.sessions.values()) {
      session.socket?.terminate();
      this.detach(session);
    }
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private detach(session: DoubleSession): void {
    if (!session.socket) return;
    session.socket = undefined;
    session.detachedFromIndex = undefined;
  }

  private accept(ws: WebSocket, headerKey: string | undefined): void {
    let session: DoubleSession | undefined;

    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        if (session) this.onAudio(session, new Uint8Array(data as Buffer));
        return;
      }
      const message = JSON.parse(String(data)) as ClientMessage;
      if (message.type === 'session.start') {
        session = this.onStart(ws, message, headerKey);
        return;
      }
      if (session) this.onMessage(session, message);
    });
    ws.on('close', () => {
      if (session?.socket === ws) this.detach(session);
    });
  }

  private onStart(
    ws: WebSocket,
    start: SessionStartMessage,
    headerKey: string | undefined,
  ): DoubleSession | undefined {
    const previous = start.resumeToken
      ? [...this.sessions.values()].find((s) => s.resumeToken === start.resumeToken)
      : undefined;
    const mode = this.options.onResume ?? 'resume';

    if (previous && mode === 'resume') {
      const replayFrom =
        start.lastEventIndex !== undefined
          ? start.lastEventIndex + 1
          : (previous.detachedFromIndex ?? previous.events.length);
      previous.socket = ws;
      previous.detachedFromIndex = undefined;
      ws.send(JSON.stringify(this.started(previous, true)));
      for (const event of previous.events.slice(replayFrom)) ws.send(JSON.stringify(event));
      return previous;
    }
    if (start.resumeToken && mode === 'error') {
      ws.send(
        JSON.stringify({
          type: 'error',
          sessionId: '',
          timeMs: 0,
          code: 'UT_ERR_RESUME_FAILED',
          message: 'unknown token',
          recoverable: false,
        }),
      );
      ws.close(4400, 'resume failed');
      return undefined;
    }

    const session = this.newSession(ws, start, headerKey);
    const started = this.started(session, false);
    if (start.resumeToken) started.resumeFailed = 'session expired';
    ws.send(JSON.stringify(started));
    return session;
  }

  private newSession(
    ws: WebSocket,
    start: SessionStartMessage,
    headerKey: string | undefined,
  ): DoubleSession {
    const id = `sess-${this.nextSession++}`;
    const session: DoubleSession = {
      id,
      resumeToken: `token-${id}`,
      start,
      frames: [],
      events: [],
      socket: ws,
      detachedFromIndex: undefined,
      responses: 0,
      messages: [],
      apiKey: headerKey ?? start.apiKey,
    };
    this.sessions.set(id, session);
    return session;
  }

  private started(session: DoubleSession, resumed: boolean) {
    return {
      type: 'session.started' as const,
      sessionId: session.id,
      timeMs: session.frames.length * 20,
      protocolVersion: 1,
      mode: session.start.mode,
      resumeToken: session.resumeToken,
      resumed,
      tracks: 1,
      output: { codec: 'pcm16' as const, sampleRateHz: 16000, frameMs: 20 },
    } as ServerEvent & { resumeFailed?: string };
  }

  private onAudio(session: DoubleSession, data: Uint8Array): void {
    const decoded = decodeFrame(data);
    if (!decoded.ok) return;
    const { seq, timestampMs, payload } = decoded.frame;
    session.frames.push({ seq, timestampMs, bytes: payload.byteLength });

    const every = this.options.prosodyEveryFrames ?? 5;
    if (every > 0 && session.frames.length % every === 0) {
      this.emit(session, { type: 'prosody', track: 0, frames: [] });
    }
  }

  private onMessage(session: DoubleSession, message: ClientMessage): void {
    session.messages.push(message);
    switch (message.type) {
      case 'ping':
        session.socket?.send(
          JSON.stringify({
            type: 'pong',
            sessionId: session.id,
            timeMs: 0,
            id: message.id,
            clientTimeMs: message.clientTimeMs,
            serverTimeMs:
              performance.timeOrigin + performance.now() + (this.options.clockOffsetMs ?? 0),
          }),
        );
        break;
      case 'input.text':
        this.respond(session, message.text);
        break;
      case 'session.end': {
        const stats = {
          frames: session.frames.length,
          bytes: 0,
          lostFrames: 0,
          reorderedFrames: 0,
          audioMs: session.frames.length * 20,
          wallMs: 0,
        };
        this.emit(session, { type: 'session.ended', reason: message.reason ?? 'client', stats });
        session.socket?.close(1000, 'session ended');
        break;
      }
    }
  }

  /** A scripted reply: started, three text deltas, PCM16 audio frames, done. */
  private respond(session: DoubleSession, text: string): void {
    const stream = ++session.responses;
    const responseId = `${session.id}-r${stream}`;
    this.emit(session, {
      type: 'response.started',
      responseId,
      inReplyTo: `text:${stream}`,
      stream,
    });
    for (const word of ['you', 'said', text])
      this.emit(session, { type: 'response.text.delta', responseId, delta: `${word} ` });

    const frames = this.options.responseFrames ?? 5;
    for (let seq = 0; seq < frames; seq++) {
      const pcm = new Uint8Array(640);
      new DataView(pcm.buffer).setInt16(0, 1000 + seq, true);
      session.socket?.send(
        encodeFrame({ kind: FRAME_KIND.agentAudio, stream, seq, timestampMs: seq * 20 }, pcm),
      );
    }
    const timings = {
      speechEndToFinalMs: null,
      finalToLlmFirstTokenMs: null,
      llmFirstTokenToTtsFirstAudioMs: null,
      voiceToVoiceMs: null,
      llmMs: null,
      ttsMs: null,
      serverOverheadMs: null,
    };
    this.emit(session, {
      type: 'response.done',
      responseId,
      text: `you said ${text}`,
      audioMs: frames * 20,
      timings,
    });
  }
}
