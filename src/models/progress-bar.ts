/**
 * A download progress line on stderr: bytes, percent and speed. Redrawn in place on a terminal;
 * elsewhere (CI logs) one line per 10 % step so logs stay short.
 */
import { basename } from 'node:path';
import type { PullProgress } from './pull-model.js';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** One progress line, e.g. `whisper-base.en encoder_model.onnx [#####     ] 48% 39.1 MB/80.4 MB 6.2 MB/s`. */
export function formatProgress(p: PullProgress, width = 20): string {
  const name = `${p.modelId} ${basename(p.file)}`;
  const speed = `${formatBytes(Math.round(p.bytesPerSecond))}/s`;
  if (p.totalBytes === undefined || p.totalBytes === 0)
    return `${name} ${formatBytes(p.receivedBytes)} ${speed}`;
  const fraction = Math.min(1, p.receivedBytes / p.totalBytes);
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}]`;
  return `${name} ${bar} ${Math.floor(fraction * 100)}% ${formatBytes(p.receivedBytes)}/${formatBytes(p.totalBytes)} ${speed}`;
}

/** Returns an `onProgress` callback that draws on `stream` (default process.stderr). */
export function createProgressBar(
  stream: ProgressStream = process.stderr,
): (p: PullProgress) => void {
  const lastStep = new Map<string, number>();
  return (p) => {
    const line = formatProgress(p);
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${line}${p.done ? '\n' : ''}`);
      return;
    }
    const step = p.totalBytes ? Math.floor((10 * p.receivedBytes) / p.totalBytes) : 0;
    if (p.done || step > (lastStep.get(p.file) ?? -1)) {
      lastStep.set(p.file, step);
      stream.write(`${line}\n`);
    }
  };
}
