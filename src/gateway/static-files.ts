/**
 * Serves the demo page: the files of `client-sdk/demo/` (built by the SDK), read from disk on
 * each request so a rebuilt demo shows up without a restart. Paths are resolved inside the folder
 * only; anything that would leave it is not found.
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wav': 'audio/wav',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Content type for a file name; `application/octet-stream` for unknown extensions. */
export function contentTypeOf(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/** The project root (the folder whose package.json is named `undertone`), from src/ or dist/. */
export function findProjectRoot(
  start = dirname(fileURLToPath(import.meta.url)),
): string | undefined {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'undertone') return dir;
      } catch {
        // An unreadable manifest is not ours; keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The demo folder, or undefined when the SDK has not built one. */
export function defaultDemoDir(): string | undefined {
  const root = findProjectRoot();
  const dir = root && join(root, 'client-sdk', 'demo');
  return dir && existsSync(join(dir, 'index.html')) ? dir : undefined;
}

/**
 * Writes the file at URL path `urlPath` from `rootDir` to `res`. Returns false (and writes
 * nothing) when there is no such file, so the caller answers 404.
 */
export async function serveStatic(
  rootDir: string,
  urlPath: string,
  res: ServerResponse,
  headOnly: boolean,
): Promise<boolean> {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath);
  } catch {
    return false;
  }
  if (relative.includes('\0')) return false;
  if (relative === '/' || relative === '') relative = '/index.html';

  const root = resolve(rootDir);
  const file = resolve(root, '.' + normalize(relative));
  if (file !== root && !file.startsWith(root + sep)) return false;

  try {
    const info = await stat(file);
    if (!info.isFile()) return false;
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': contentTypeOf(file),
      'content-length': body.byteLength,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(headOnly ? undefined : body);
    return true;
  } catch {
    return false;
  }
}
