import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

export const BACKEND_KINDS = ['dllm', 'openai'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** Every setting of the core, resolved. */
export interface AppConfig {
  host: string;
  port: number;
  dbPath: string;
  backendUrl: string | null;
  backendKind: BackendKind;
  model: string | null;
  timeoutSeconds: number;
  token: string | null;
  /** Extra `Host` header names accepted besides loopback names (DNS-rebinding defence). */
  allowedHosts: string[];
  /** The settings file the values were read from, if any. */
  settingsFile: string | null;
}

/** A configuration problem, reported to the user as one line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The settings file's shape (also what the desktop app's Settings view saves). */
export const SettingsFileSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    db: z.string().min(1),
    backend: z.string().nullable(),
    backendKind: z.enum(BACKEND_KINDS),
    model: z.string().nullable(),
    timeout: z.number().positive().max(3600),
    token: z.string().nullable(),
    allowedHosts: z.array(z.string()),
  })
  .partial();
export type SettingsFile = z.infer<typeof SettingsFileSchema>;

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  db: { type: 'string' },
  backend: { type: 'string' },
  'backend-kind': { type: 'string' },
  model: { type: 'string' },
  timeout: { type: 'string' },
  token: { type: 'string' },
  'allowed-hosts': { type: 'string' },
  settings: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const USAGE = `Usage: npm run serve -- [options]

  --host ADDRESS         listen address (DIFFUSION_MONITOR_HOST, default 127.0.0.1)
  --port N               port, 0 for any free one (DIFFUSION_MONITOR_PORT, default 7000)
  --db PATH              metrics database (METRICS_DB, default ./metrics.db)
  --backend URL          model runtime base URL (DIFFUSION_LLM_BASE_URL)
  --backend-kind KIND    dllm | openai (DIFFUSION_LLM_BACKEND, default dllm)
  --model ID             default model (DIFFUSION_LLM_MODEL)
  --timeout SECONDS      backend timeout (DIFFUSION_LLM_TIMEOUT, default 120)
  --token TOKEN          require "Authorization: Bearer TOKEN" (DIFFUSION_MONITOR_TOKEN)
  --allowed-hosts A,B    extra Host names to accept (DIFFUSION_MONITOR_ALLOWED_HOSTS)
  --settings PATH        JSON settings file (DIFFUSION_MONITOR_SETTINGS)
`;

export interface ResolveInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Settings file used when neither --settings nor DIFFUSION_MONITOR_SETTINGS names one. */
  defaultSettingsFile?: string;
  /** Database path when nothing else sets it (headless: ./metrics.db; desktop: user-data folder). */
  defaultDbPath?: string;
}

function readSettingsFile(path: string, required: boolean): SettingsFile {
  if (!existsSync(path)) {
    if (required) throw new ConfigError(`settings file ${path} does not exist`);
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`settings file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = SettingsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`settings file ${path}: ${issue?.path.join('.') || 'value'} ${issue?.message ?? 'is invalid'}`);
  }
  return parsed.data;
}

function pick<T>(...values: Array<T | undefined>): T | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

function toNumber(name: string, raw: string | number | undefined, fallback: number, check: (n: number) => boolean, rule: string): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new ConfigError(`${name} must be ${rule}; got ${JSON.stringify(raw)}`);
  return n;
}

function normaliseUrl(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`backend URL ${JSON.stringify(raw)} is not a URL (expected e.g. http://127.0.0.1:8000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`backend URL must use http or https; got ${url.protocol}`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** Resolves the configuration: command-line flag > environment variable > settings file > default. */
export function resolveConfig(input: ResolveInput): AppConfig & { help: boolean } {
  let flags: Partial<Record<keyof typeof FLAGS, string | boolean>>;
  try {
    flags = parseArgs({ args: [...input.argv], options: FLAGS, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (see --help)`);
  }
  const flag = (name: keyof typeof FLAGS): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const env = input.env;

  const explicitSettings = pick(flag('settings'), env.DIFFUSION_MONITOR_SETTINGS);
  const settingsPath = explicitSettings ? resolve(input.cwd, explicitSettings) : input.defaultSettingsFile;
  const file = settingsPath ? readSettingsFile(settingsPath, explicitSettings !== undefined) : {};

  const host = pick(flag('host'), env.DIFFUSION_MONITOR_HOST, file.host) ?? '127.0.0.1';
  const port = toNumber('port', pick<string | number>(flag('port'), env.DIFFUSION_MONITOR_PORT, file.port), 7000, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'an integer from 0 to 65535');
  const timeoutSeconds = toNumber('timeout', pick<string | number>(flag('timeout'), env.DIFFUSION_LLM_TIMEOUT, file.timeout), 120, (n) => n > 0 && n <= 3600, 'a number of seconds above 0 and at most 3600');
  const kind = pick(flag('backend-kind'), env.DIFFUSION_LLM_BACKEND, file.backendKind) ?? 'dllm';
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(`backend kind must be one of ${BACKEND_KINDS.join(', ')}; got ${JSON.stringify(kind)}`);
  }
  const token = pick(flag('token'), env.DIFFUSION_MONITOR_TOKEN, file.token ?? undefined) ?? null;
  if (!isLoopbackHost(host) && token === null) {
    throw new ConfigError(`listening on ${host} exposes the server beyond this machine; set --token (or DIFFUSION_MONITOR_TOKEN) to require a bearer token`);
  }
  const allowedRaw = pick(flag('allowed-hosts'), env.DIFFUSION_MONITOR_ALLOWED_HOSTS);
  const allowedHosts = allowedRaw !== undefined ? allowedRaw.split(',').map((h) => h.trim()).filter(Boolean) : (file.allowedHosts ?? []);
  const db = pick(flag('db'), env.METRICS_DB, file.db);

  return {
    host,
    port,
    dbPath: db === ':memory:' ? db : resolve(input.cwd, db ?? input.defaultDbPath ?? 'metrics.db'),
    backendUrl: normaliseUrl(pick(flag('backend'), env.DIFFUSION_LLM_BASE_URL, file.backend ?? undefined)),
    backendKind: kind as BackendKind,
    model: pick(flag('model'), env.DIFFUSION_LLM_MODEL, file.model ?? undefined) ?? null,
    timeoutSeconds,
    token,
    allowedHosts,
    settingsFile: settingsPath && existsSync(settingsPath) ? settingsPath : null,
    help: flags.help === true,
  };
}
