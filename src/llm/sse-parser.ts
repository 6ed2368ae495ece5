/**
 * Server-sent events parser for streamed HTTP bodies. Bytes may arrive split anywhere (inside a
 * line, inside a UTF-8 character, between `\r` and `\n`); events are released only when their
 * blank line has arrived. Only `data` matters to OpenAI-style streams; `event`, `id`, `retry` and
 * comment lines are read and ignored.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private text = '';
  private data: string[] = [];

  /** Feeds body bytes; returns the `data` payloads of events completed by them. */
  push(bytes: Uint8Array): string[] {
    this.text += this.decoder.decode(bytes, { stream: true });
    return this.drain();
  }

  /** Ends the body: an event without its final blank line is still released. */
  end(): string[] {
    this.text += this.decoder.decode();
    const events = this.drain();
    if (this.text) this.line(this.text);
    this.text = '';
    if (this.data.length > 0) events.push(this.data.join('\n'));
    this.data = [];
    return events;
  }

  private drain(): string[] {
    const events: string[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/u.exec(this.text);
      if (!match) break;
      // A lone `\r` at the end may be the first half of `\r\n`: wait for the next bytes.
      if (match[0] === '\r' && match.index === this.text.length - 1) break;

      const line = this.text.slice(0, match.index);
      this.text = this.text.slice(match.index + match[0].length);
      if (line === '') {
        if (this.data.length > 0) events.push(this.data.join('\n'));
        this.data = [];
      } else {
        this.line(line);
      }
    }
    return events;
  }

  private line(line: string): void {
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
  }
}
