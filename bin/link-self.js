#!/usr/bin/env node
// npm links the bins of dependencies and workspaces into node_modules/.bin, but not the root
// package's own. Link `undertone` there too, so `npx undertone` and scripts that look in
// node_modules/.bin find it right after `npm ci`.
import { existsSync, mkdirSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'bin', 'undertone.js');
const binDir = join(root, 'node_modules', '.bin');
const link = join(binDir, 'undertone');
if (existsSync(join(root, 'node_modules'))) {
  mkdirSync(binDir, { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(relative(binDir, target), link);
  chmodSync(target, 0o755);
}
