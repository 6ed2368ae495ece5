/**
 * Builds the one frozen configuration of a process: schema defaults, then a JSON file, then
 * `UNDERTONE_*` environment variables, then CLI overrides, each later source winning. This is the
 * only module that reads `process.env` for settings.
 *
 * Environment names are the setting path in upper snake case: `server.port` is
 * `UNDERTONE_SERVER_PORT`, `asr.remote.url` is `UNDERTONE_ASR_REMOTE_URL`. Lists are
 * comma-separated.
 */
import { readFileSync } from 'node:fs';
import { configSchema, type UndertoneConfig } from './schema.js';
import { UndertoneError } from '../errors/undertone-error.js';

export interface ConfigSources {
  /** Path of a JSON config file. */
  file?: string;
  /** Environment, `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** Overrides by setting path, e.g. `{ 'server.port': '0' }`, as typed on a command line. */
  overrides?: Record<string, string | number | boolean>;
  /** How each override was typed (`{ 'server.port': '--port' }`), for error messages. */
  overrideOrigins?: Record<string, string>;
}

type LeafKind = 'number' | 'boolean' | 'string' | 'list';
interface Leaf {
  path: string[];
  kind: LeafKind;
}

/** Every setting path in the schema with how its text form is parsed. */
export function listSettings(): Leaf[] {
  const leaves: Leaf[] = [];
  walk(configSchema, [], leaves);
  return leaves;
}

function unwrap(schema: any): any {
  let s = schema;
  while (s?._zod?.def?.innerType) s = s._zod.def.innerType;
  return s;
}

function walk(schema: any, path: string[], out: Leaf[]): void {
  const s = unwrap(schema);
  const type = s._zod.def.type;
  if (type === 'object') {
    for (const [key, child] of Object.entries(s._zod.def.shape)) walk(child, [...path, key], out);
    return;
  }
  const kind: LeafKind =
    type === 'number'
      ? 'number'
      : type === 'boolean'
        ? 'boolean'
        : type === 'array'
          ? 'list'
          : 'string';
  out.push({ path, kind });
}

const envName = (path: string[]): string =>
  'UNDERTONE_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');

function parseText(leaf: Leaf, text: string, origin: string): unknown {
  const where = `${leaf.path.join('.')} (from ${origin})`;
  switch (leaf.kind) {
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) {
        throw configError(`${where}: expected a number, got ${JSON.stringify(text)}`);
      }
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      throw configError(`${where}: expected true or false, got ${JSON.stringify(text)}`);
    case 'list': {
      // A JSON array (`["a","b"]`, `[]`) or a comma-separated list (`a,b`).
      if (text.trim().startsWith('[')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw configError(`${where}: not a valid JSON array: ${text}`);
        }
        if (!Array.isArray(parsed)) throw configError(`${where}: expected a list`);
        return parsed.map(String);
      }
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
    default:
      return text;
  }
}

function setPath(target: Record<string, any>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key];
  }
  node[path[path.length - 1]!] = value;
}

function configError(message: string): UndertoneError {
  return new UndertoneError('UT_ERR_CONFIG', message, { category: 'bad-input' });
}

/** Loads, validates and freezes the configuration. Throws `UT_ERR_CONFIG` listing every bad value. */
export function loadConfig(sources: ConfigSources = {}): UndertoneConfig {
  const raw: Record<string, any> = {};
  const leaves = listSettings();
  /** Where each setting's value came from, by dotted path, for error messages. */
  const origins = new Map<string, string>();

  if (sources.file) {
    const fromFile = readConfigFile(sources.file);
    checkKnownKeys(fromFile, [], leaves, sources.file);
    Object.assign(raw, fromFile);
    for (const leaf of leaves) {
      if (getPath(fromFile, leaf.path) !== undefined)
        origins.set(leaf.path.join('.'), sources.file);
    }
  }

  const env = sources.env ?? process.env;
  for (const leaf of leaves) {
    const name = envName(leaf.path);
    const text = env[name];
    if (text === undefined) continue;
    setPath(raw, leaf.path, parseText(leaf, text, name));
    origins.set(leaf.path.join('.'), name);
  }

  for (const [key, value] of Object.entries(sources.overrides ?? {})) {
    const origin = sources.overrideOrigins?.[key] ?? `--set ${key}`;
    const leaf = leaves.find((l) => l.path.join('.') === key);
    if (!leaf) throw configError(`${key} (from ${origin}): no such setting`);
    const parsed = typeof value === 'string' ? parseText(leaf, value, origin) : value;
    setPath(raw, leaf.path, parsed);
    origins.set(key, origin);
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const where = path.join('.') || '(root)';
      const origin = originOf(path, origins);
      return `  ${where}${origin ? ` (from ${origin})` : ''}: ${issue.message}`;
    });
    throw configError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return deepFreeze(result.data);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw configError(`config file ${file}: cannot be read (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw configError(`config file ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw configError(`config file ${file}: must hold a JSON object of settings`);
  }
  return parsed as Record<string, unknown>;
}

/** Rejects keys the schema does not have, so a typo (`server.prot`) is not silently ignored. */
function checkKnownKeys(node: unknown, path: string[], leaves: Leaf[], file: string): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  for (const [key, child] of Object.entries(node)) {
    const childPath = [...path, key];
    const dotted = childPath.join('.');
    const isLeaf = leaves.some((l) => l.path.join('.') === dotted);
    const isSection = leaves.some((l) => l.path.join('.').startsWith(`${dotted}.`));
    if (!isLeaf && !isSection) throw configError(`${dotted} (from ${file}): no such setting`);
    if (isSection) checkKnownKeys(child, childPath, leaves, file);
  }
}

function getPath(node: unknown, path: string[]): unknown {
  let at: unknown = node;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The origin of a setting, or of the closest one below or above it (section-level issues). */
function originOf(path: string[], origins: Map<string, string>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const origin = origins.get(path.slice(0, n).join('.'));
    if (origin) return origin;
  }
  const prefix = `${path.join('.')}.`;
  for (const [key, origin] of origins) if (key.startsWith(prefix)) return origin;
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export { envName as settingEnvName };
