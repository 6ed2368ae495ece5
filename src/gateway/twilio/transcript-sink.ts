/**
 * A per-session JSONL file of what a call-centre transcribe session produces: finals, emotion
 * finals, call metrics and the session's start and end, one event per line, in
 * `session.transcriptSinkDir/<sessionId>.jsonl`. Write failures are logged once and the call
 * goes on without the file.
 */
import { mkdirSync, createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ServerEvent, ServerEventType } from '../../protocol/messages.js';

const KEPT: ReadonlySet<ServerEventType> = new Set([
  'session.started',
  'transcript.final',
  'emotion.final',
  'call.metrics',
  'call.summary',
  'session.ended',
]);

export class TranscriptSink {
  readonly path: string;
  private stream?: WriteStream;
  private failed = false;

  constructor(
    dir: string,
    sessionId: string,
    private readonly log: Logger,
  ) {
    this.path = join(dir, `${sessionId}.jsonl`);
    try {
      mkdirSync(dir, { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'a' });
      this.stream.on('error', (err) => this.fail(err));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Appends the event when it is one the sink keeps. */
  write(event: ServerEvent): void {
    if (!this.stream || this.failed || !KEPT.has(event.type)) return;
    this.stream.write(`${JSON.stringify(event)}\n`);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream || this.failed) return Promise.resolve();
    return new Promise((resolve) => stream.end(() => resolve()));
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.log.warn({ err, path: this.path }, 'transcript sink failed; call goes on without it');
  }
}
