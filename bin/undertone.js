#!/usr/bin/env node
// The `undertone` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (run for you by `npm ci` / `npm install`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`undertone: ${entry} is missing. Run \`npm run build\` (npm ci runs it for you).\n`);
  process.exit(2);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
