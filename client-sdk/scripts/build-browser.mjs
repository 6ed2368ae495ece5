#!/usr/bin/env node
// Builds the browser SDK as plain ES modules into client-sdk/demo/sdk/, where the gateway serves
// it with the demo page (GET /sdk/browser/index.js). No bundler: each TypeScript file is
// transpiled on its own (type checking is `npm run typecheck`'s job), and imports of the shared
// protocol (`../../src/protocol/...`) are pointed at the copy in demo/sdk/protocol/. The libopus
// WebAssembly build of `@evan/opus` (MIT) is copied to browser/opus/ for the encoder fallback
// (client-sdk/src/browser/wasm-opus.ts), which fetches it only where WebCodecs has no Opus.
//   node client-sdk/scripts/build-browser.mjs [outDir]
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const sdkRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const projectRoot = resolve(sdkRoot, '..');

/** Source folders and where their files go under the output folder. */
const TREES = [
  { from: join(sdkRoot, 'src'), to: '.', recurse: ['browser'] },
  { from: join(projectRoot, 'src', 'protocol'), to: 'protocol', recurse: [] },
];

/** Files of `@evan/opus` that the browser loads, and their names under browser/opus/. */
const OPUS_WASM_FILES = [
  ['wasm/opus.wasm', 'opus.wasm'],
  ['wasm/simd.wasm', 'simd.wasm'],
  ['LICENSE', 'LICENSE'],
];

/** The installed `@evan/opus` package folder. */
function opusPackageDir() {
  const require = createRequire(join(sdkRoot, 'package.json'));
  return dirname(require.resolve('@evan/opus/package.json'));
}

const tsFiles = (dir) => readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));

/** Transpiles the browser SDK into `outDir` (default client-sdk/demo/sdk); returns the files written. */
export function buildBrowserSdk(outDir = join(sdkRoot, 'demo', 'sdk')) {
  rmSync(outDir, { recursive: true, force: true });
  const protocolDir = join(outDir, 'protocol');
  const written = [];

  for (const tree of TREES) {
    for (const sub of ['.', ...tree.recurse]) {
      const srcDir = join(tree.from, sub);
      const dstDir = join(outDir, tree.to, sub);
      mkdirSync(dstDir, { recursive: true });
      for (const file of tsFiles(srcDir)) {
        const source = readFileSync(join(srcDir, file), 'utf8');
        const { outputText } = ts.transpileModule(source, {
          compilerOptions: {
            target: ts.ScriptTarget.ES2022,
            module: ts.ModuleKind.ESNext,
            sourceMap: false,
          },
          fileName: file,
        });
        const toProtocol = relative(dstDir, protocolDir).split(sep).join('/') || '.';
        const code = outputText.replace(
          /(from\s+|import\s*\(\s*)(['"])(?:\.\.\/)+src\/protocol\//g,
          (_m, lead, quote) =>
            `${lead}${quote}${toProtocol.startsWith('.') ? toProtocol : `./${toProtocol}`}/`,
        );
        const out = join(dstDir, file.replace(/\.ts$/, '.js'));
        writeFileSync(out, code);
        written.push(out);
      }
    }
  }
  const opusDir = opusPackageDir();
  const wasmDir = join(outDir, 'browser', 'opus');
  mkdirSync(wasmDir, { recursive: true });
  for (const [from, to] of OPUS_WASM_FILES) {
    copyFileSync(join(opusDir, from), join(wasmDir, to));
    written.push(join(wasmDir, to));
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const files = buildBrowserSdk(process.argv[2] ? resolve(process.argv[2]) : undefined);
  const modules = files.filter((f) => f.endsWith('.js')).length;
  process.stdout.write(
    `browser SDK: ${modules} modules and the Opus WebAssembly build in ${relative(process.cwd(), dirname(files[0]))}\n`,
  );
}
