import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/llm/sse-parser.js';

function parseInSlices(text: string, sliceBytes: number): string[] {
  const bytes = new TextEncoder().encode(text);
  const parser = new SseParser();
  const events: string[] = [];
  for (let at = 0; at < bytes.length; at += sliceBytes)
    events.push(...parser.push(bytes.subarray(at, at + sliceBytes)));
  return [...events, ...parser.end()];
}

describe('SseParser', () => {
  const body =
    ': comment\n\nevent: message\ndata: {"a":"ü€"}\nid: 7\n\ndata: line1\ndata: line2\n\ndata:[DONE]\n\n';
  const expected = ['{"a":"ü€"}', 'line1\nline2', '[DONE]'];

  for (const size of [1, 2, 3, 5, 1000]) {
    it(`gives the same events when bytes arrive ${size} at a time`, () => {
      expect(parseInSlices(body, size)).toEqual(expected);
    });
  }

  it('reads CR and CRLF line ends, even split between CR and LF', () => {
    expect(parseInSlices('data: a\r\n\r\ndata: b\r\rdata: c\r\n\r\n', 1)).toEqual(['a', 'b', 'c']);
  });

  it('releases an event missing its final blank line at the end', () => {
    expect(parseInSlices('data: tail', 4)).toEqual(['tail']);
  });

  it('ignores events without data', () => {
    expect(parseInSlices('event: ping\n\nretry: 10\n\n', 3)).toEqual([]);
  });
});
