#!/usr/bin/env node
// `npm run loadtest -- [options]`: the load tester, compiled to dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = join(root, 'dist', 'loadtest', 'src', 'cli.js');
if (!existsSync(entry)) {
  process.stderr.write(`loadtest: ${entry} is missing. Run \`npm run build\` first.\n`);
  process.exit(2);
}
const { loadtestMain } = await import(pathToFileURL(entry).href);
process.exitCode = await loadtestMain(process.argv.slice(2));
