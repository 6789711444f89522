import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MIN_TOKEN_LENGTH } from '../shared/apiSchemas';
import type { InfluxPushSettings } from './export/influxPusher';

import { BACKEND_KINDS, OPENAI_GENERATE_APIS, OPENAI_INFILL_APIS, type BackendKind, type OpenAiGenerateApi, type OpenAiInfillApi } from '../shared/apiSchemas';
import { DiffusionError } from '../shared/errors';
import { isLoopbackHost } from '../shared/loopback';
import { issueSentences, nearestKey } from '../shared/validation';

export { BACKEND_KINDS, OPENAI_GENERATE_APIS, OPENAI_INFILL_APIS, type BackendKind, type OpenAiGenerateApi, type OpenAiInfillApi };

/** Every setting of the core, resolved. */
export interface AppConfig {
  host: string;
  port: number;
  dbPath: string;
  backendUrl: string | null;
  backendKind: BackendKind;
  model: string | null;
  timeoutSeconds: number;
  /** Bearer token sent to the backend (not to be confused with `token`, which guards our server). */
  apiKey: string | null;
  openaiGenerateApi: OpenAiGenerateApi;
  openaiInfillApi: OpenAiInfillApi;
  /** Mercury-style `diffusing: true`: streamed chunks are whole drafts relayed as step frames. */
  openaiDiffusing: boolean;
  token: string | null;
  /** Extra `Host` header names accepted besides loopback names (DNS-rebinding defence). */
  allowedHosts: string[];
  /** The settings file the values were read from, if any. */
  settingsFile: string | null;
  /** The built-in InfluxDB pusher; off (null or absent) unless an InfluxDB URL is set. */
  influx?: InfluxPushSettings | null;
  /** What clients may hold; anything absent takes its default. */
  limits?: LimitSettings;
}

/** Bounds on what clients can grow (time, connections, concurrency, label sets). */
export interface LimitSettings {
  /** Seconds to receive a whole request, headers and body (default 30). */
  requestTimeoutSeconds?: number;
  /** Open connections at most (default 1000). */
  maxConnections?: number;
  /** Seconds shutdown waits for requests in progress before cutting them (default 10). */
  shutdownGraceSeconds?: number;
  /** Diffusion requests served at once; more wait in a fair queue (default 128). */
  maxConcurrent?: number;
  /** Distinct model labels in metrics; the rest count as `other` (default 100). */
  maxModels?: number;
}

/** A configuration problem, reported to the user as one line. */
export class ConfigError extends DiffusionError {
  override name = 'ConfigError';
  constructor(message: string) {
    super('validation', message);
  }
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
    apiKey: z.string().nullable(),
    openaiGenerateApi: z.enum(OPENAI_GENERATE_APIS),
    openaiInfillApi: z.enum(OPENAI_INFILL_APIS),
    openaiDiffusing: z.boolean(),
    token: z.string().nullable(),
    allowedHosts: z.array(z.string()),
    influxUrl: z.string().nullable(),
    influxDb: z.string().nullable(),
    influxOrg: z.string().nullable(),
    influxBucket: z.string().nullable(),
    influxToken: z.string().nullable(),
    influxInterval: z.number().min(0.1).max(86400),
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
  'api-key': { type: 'string' },
  'openai-generate': { type: 'string' },
  'openai-infill': { type: 'string' },
  'openai-diffusing': { type: 'boolean' },
  token: { type: 'string' },
  'allowed-hosts': { type: 'string' },
  settings: { type: 'string' },
  'influx-url': { type: 'string' },
  'influx-db': { type: 'string' },
  'influx-org': { type: 'string' },
  'influx-bucket': { type: 'string' },
  'influx-token': { type: 'string' },
  'influx-interval': { type: 'string' },
  'request-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  'shutdown-grace': { type: 'string' },
  'max-concurrent': { type: 'string' },
  'max-models': { type: 'string' },
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
  --api-key KEY          bearer token sent to the backend (DIFFUSION_LLM_API_KEY)
  --openai-generate API  chat | completions: route for generate with --backend-kind openai
                         (DIFFUSION_LLM_OPENAI_GENERATE, default chat)
  --openai-infill API    completions | fim: route for infill with --backend-kind openai
                         (DIFFUSION_LLM_OPENAI_INFILL, default completions)
  --openai-diffusing     Mercury-style diffusing drafts, relayed as steps
                         (DIFFUSION_LLM_OPENAI_DIFFUSING=1)
  --token TOKEN          require "Authorization: Bearer TOKEN" (DIFFUSION_MONITOR_TOKEN)
  --allowed-hosts A,B    extra Host names to accept (DIFFUSION_MONITOR_ALLOWED_HOSTS)
  --settings PATH        JSON settings file (DIFFUSION_MONITOR_SETTINGS)

  Built-in InfluxDB pusher (off unless --influx-url is set):
  --influx-url URL       InfluxDB base URL, e.g. http://127.0.0.1:8086 (DIFFUSION_MONITOR_INFLUX_URL)
  --influx-db NAME       InfluxDB 1.x database (DIFFUSION_MONITOR_INFLUX_DB)
  --influx-org ORG       InfluxDB 2.x organisation (DIFFUSION_MONITOR_INFLUX_ORG)
  --influx-bucket NAME   InfluxDB 2.x bucket (DIFFUSION_MONITOR_INFLUX_BUCKET)
  --influx-token TOKEN   2.x API token, or user:password for 1.x (DIFFUSION_MONITOR_INFLUX_TOKEN)
  --influx-interval S    seconds between pushes (DIFFUSION_MONITOR_INFLUX_INTERVAL, default 10)

  Limits:
  --request-timeout S    seconds to receive a whole request (DIFFUSION_MONITOR_REQUEST_TIMEOUT, default 30)
  --max-connections N    open connections at most (DIFFUSION_MONITOR_MAX_CONNECTIONS, default 1000)
  --shutdown-grace S     seconds shutdown waits for requests in progress (DIFFUSION_MONITOR_SHUTDOWN_GRACE, default 10)
  --max-concurrent N     diffusion requests at once; more wait fairly (DIFFUSION_MONITOR_MAX_CONCURRENT, default 128)
  --max-models N         distinct model labels in metrics (DIFFUSION_MONITOR_MAX_MODELS, default 100)
`;

/**
 * The flag and environment variable behind each settings-file key. `resolveConfig` reads them
 * through this table, and the Settings view marks the keys they set as overridden.
 */
const SOURCES = {
  host: { flag: 'host', env: 'DIFFUSION_MONITOR_HOST' },
  port: { flag: 'port', env: 'DIFFUSION_MONITOR_PORT' },
  db: { flag: 'db', env: 'METRICS_DB' },
  backend: { flag: 'backend', env: 'DIFFUSION_LLM_BASE_URL' },
  backendKind: { flag: 'backend-kind', env: 'DIFFUSION_LLM_BACKEND' },
  model: { flag: 'model', env: 'DIFFUSION_LLM_MODEL' },
  timeout: { flag: 'timeout', env: 'DIFFUSION_LLM_TIMEOUT' },
  apiKey: { flag: 'api-key', env: 'DIFFUSION_LLM_API_KEY' },
  openaiGenerateApi: { flag: 'openai-generate', env: 'DIFFUSION_LLM_OPENAI_GENERATE' },
  openaiInfillApi: { flag: 'openai-infill', env: 'DIFFUSION_LLM_OPENAI_INFILL' },
  openaiDiffusing: { flag: 'openai-diffusing', env: 'DIFFUSION_LLM_OPENAI_DIFFUSING' },
  token: { flag: 'token', env: 'DIFFUSION_MONITOR_TOKEN' },
  allowedHosts: { flag: 'allowed-hosts', env: 'DIFFUSION_MONITOR_ALLOWED_HOSTS' },
} as const satisfies { [K in keyof SettingsFile]?: { flag: keyof typeof FLAGS; env: string } };
type SourcedKey = keyof typeof SOURCES;

type Flags = Partial<Record<keyof typeof FLAGS, string | boolean>>;

/** Node's argument parser explains in three lines; a start-up error is one. */
function oneLineArgumentError(message: string): string {
  const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous) return `${ambiguous[1]} needs a value; for one that starts with "-", write ${ambiguous[1]}=VALUE (e.g. ${ambiguous[1]}=-3)`;
  const missing = /^Option '(--[\w-]+)[^']*' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

function parseFlags(argv: readonly string[]): Flags {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new ConfigError(`${oneLineArgumentError((error as Error).message)} (see --help)`);
  }
}

/** What the command line or the environment says for a settings key (`undefined`: neither). */
function givenValue(flags: Flags, env: ResolveInput['env'], key: SourcedKey): string | undefined {
  const value = flags[SOURCES[key].flag];
  return pick(typeof value === 'string' ? value : undefined, env[SOURCES[key].env]);
}

/**
 * The settings-file keys a flag or an environment variable sets, so that the file's value does
 * not take effect. Flags and environment are fixed for the life of the process.
 */
export function keysSetOutsideFile(input: Pick<ResolveInput, 'argv' | 'env'>): Array<keyof SettingsFile> {
  const flags = parseFlags(input.argv);
  return (Object.keys(SOURCES) as SourcedKey[]).filter((key) => givenValue(flags, input.env, key) !== undefined || flags[SOURCES[key].flag] === true);
}

export interface ResolveInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Settings file used when neither --settings nor DIFFUSION_MONITOR_SETTINGS names one. */
  defaultSettingsFile?: string;
  /** Database path when nothing else sets it (headless: ./metrics.db; desktop: user-data folder). */
  defaultDbPath?: string;
}

/**
 * Reads the settings file leniently where it can and strictly where a mistake would be silent:
 * a file that does not exist yet reads as `{}` (the first save creates it), so does an empty one;
 * every unknown key (with the nearest known one) and every invalid value is reported, all on one
 * line.
 */
function readSettingsFile(path: string): SettingsFile {
  if (!existsSync(path)) return {};
  const text = readFileSync(path, 'utf8');
  if (text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`settings file ${path} is not valid JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ConfigError(`settings file ${path} must hold a JSON object like {"port": 7000}`);
  const known = Object.keys(SettingsFileSchema.shape);
  const problems: string[] = [];
  for (const key of Object.keys(json)) {
    if (known.includes(key)) continue;
    const near = nearestKey(key, known);
    problems.push(`unknown key ${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`);
  }
  const parsed = SettingsFileSchema.safeParse(json);
  if (!parsed.success) {
    const named = { schema: SettingsFileSchema, where: 'content', name: (field: string) => JSON.stringify(field) };
    for (const problem of issueSentences(parsed.error, named)) problems.push(problem.message);
  }
  if (problems.length > 0) throw new ConfigError(`settings file ${path}: ${problems.join('; ')}`);
  return parsed.data ?? {};
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

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(raw)}`);
  return raw as T;
}

function toBoolean(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be 1 or 0; got ${JSON.stringify(raw)}`);
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
    // `localhost:8000` parses as the scheme "localhost:": say what was meant.
    const bare = /^[\w.-]+:\d+(\/.*)?$/.test(raw);
    throw new ConfigError(
      bare
        ? `backend URL ${JSON.stringify(raw)} needs its scheme: use http://${raw}`
        : `backend URL ${JSON.stringify(raw)} must start with http:// or https:// (e.g. http://127.0.0.1:8000)`,
    );
  }
  return url.toString().replace(/\/+$/, '');
}

/** The InfluxDB pusher's settings: off without a URL; a 1.x database or a 2.x org + bucket, not both. */
function resolveInfluxPush(
  flag: (name: keyof typeof FLAGS) => string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  file: SettingsFile,
): InfluxPushSettings | null {
  const url = pick(flag('influx-url'), env.DIFFUSION_MONITOR_INFLUX_URL, file.influxUrl ?? undefined);
  const db = pick(flag('influx-db'), env.DIFFUSION_MONITOR_INFLUX_DB, file.influxDb ?? undefined);
  const org = pick(flag('influx-org'), env.DIFFUSION_MONITOR_INFLUX_ORG, file.influxOrg ?? undefined);
  const bucket = pick(flag('influx-bucket'), env.DIFFUSION_MONITOR_INFLUX_BUCKET, file.influxBucket ?? undefined);
  const token = pick(flag('influx-token'), env.DIFFUSION_MONITOR_INFLUX_TOKEN, file.influxToken ?? undefined) ?? null;
  if (url === undefined) {
    if (db ?? org ?? bucket) throw new ConfigError('the InfluxDB pusher needs --influx-url (e.g. http://127.0.0.1:8086)');
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`InfluxDB URL ${JSON.stringify(url)} is not a URL (expected e.g. http://127.0.0.1:8086)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`InfluxDB URL must use http or https; got ${parsed.protocol}`);
  const intervalSeconds = toNumber(
    'influx interval',
    pick<string | number>(flag('influx-interval'), env.DIFFUSION_MONITOR_INFLUX_INTERVAL, file.influxInterval),
    10,
    (n) => n >= 0.1 && n <= 86400,
    'a number of seconds from 0.1 to 86400',
  );
  const base = url.replace(/\/+$/, '');
  if (db !== undefined && (org !== undefined || bucket !== undefined)) {
    throw new ConfigError('set either --influx-db (InfluxDB 1.x) or --influx-org with --influx-bucket (InfluxDB 2.x), not both');
  }
  if (db !== undefined) return { url: base, target: { version: 1, db }, token, intervalSeconds };
  if (org === undefined || bucket === undefined) {
    throw new ConfigError('the InfluxDB pusher needs --influx-db (InfluxDB 1.x) or both --influx-org and --influx-bucket (InfluxDB 2.x)');
  }
  return { url: base, target: { version: 2, org, bucket }, token, intervalSeconds };
}

/** The limits: flag > environment > default (left out, so the server's defaults apply). */
function resolveLimits(flag: (name: keyof typeof FLAGS) => string | undefined, env: Readonly<Record<string, string | undefined>>): LimitSettings {
  const limits: LimitSettings = {};
  const read = (name: keyof typeof FLAGS, envName: string, check: (n: number) => boolean, rule: string): number | undefined => {
    const raw = pick(flag(name), env[envName]);
    return raw === undefined ? undefined : toNumber(name.replace(/-/g, ' '), raw, 0, check, rule);
  };
  const seconds = (n: number): boolean => n > 0 && n <= 3600;
  const count = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 1_000_000;
  const requestTimeout = read('request-timeout', 'DIFFUSION_MONITOR_REQUEST_TIMEOUT', seconds, 'a number of seconds above 0 and at most 3600');
  const maxConnections = read('max-connections', 'DIFFUSION_MONITOR_MAX_CONNECTIONS', count, 'an integer from 1 to 1000000');
  const grace = read('shutdown-grace', 'DIFFUSION_MONITOR_SHUTDOWN_GRACE', (n) => n >= 0 && n <= 3600, 'a number of seconds from 0 to 3600');
  const maxConcurrent = read('max-concurrent', 'DIFFUSION_MONITOR_MAX_CONCURRENT', count, 'an integer from 1 to 1000000');
  const maxModels = read('max-models', 'DIFFUSION_MONITOR_MAX_MODELS', count, 'an integer from 1 to 1000000');
  if (requestTimeout !== undefined) limits.requestTimeoutSeconds = requestTimeout;
  if (maxConnections !== undefined) limits.maxConnections = maxConnections;
  if (grace !== undefined) limits.shutdownGraceSeconds = grace;
  if (maxConcurrent !== undefined) limits.maxConcurrent = maxConcurrent;
  if (maxModels !== undefined) limits.maxModels = maxModels;
  return limits;
}

/** Resolves the configuration: command-line flag > environment variable > settings file > default. */
export function resolveConfig(input: ResolveInput, settings?: SettingsFile): AppConfig & { help: boolean } {
  const flags = parseFlags(input.argv);
  const flag = (name: keyof typeof FLAGS): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const env = input.env;
  const given = (key: SourcedKey): string | undefined => givenValue(flags, env, key);

  const explicitSettings = pick(flag('settings'), env.DIFFUSION_MONITOR_SETTINGS);
  const settingsPath = explicitSettings ? resolve(input.cwd, explicitSettings) : input.defaultSettingsFile;
  // `settings` stands for the file's content (a save checks what it is about to write).
  const file = settings ?? (settingsPath ? readSettingsFile(settingsPath) : {});

  const host = pick(given('host'), file.host) ?? '127.0.0.1';
  const port = toNumber(
    'port',
    pick<string | number>(given('port'), file.port),
    7000,
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
    'an integer from 0 to 65535',
  );
  const timeoutSeconds = toNumber(
    'timeout',
    pick<string | number>(given('timeout'), file.timeout),
    120,
    (n) => n > 0 && n <= 3600,
    'a number of seconds above 0 and at most 3600',
  );
  const kind = pick(given('backendKind'), file.backendKind) ?? 'dllm';
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(`backend kind must be one of ${BACKEND_KINDS.join(', ')}; got ${JSON.stringify(kind)}`);
  }
  const openaiGenerateApi = oneOf('openai generate API', pick(given('openaiGenerateApi'), file.openaiGenerateApi), OPENAI_GENERATE_APIS, 'chat');
  const openaiInfillApi = oneOf('openai infill API', pick(given('openaiInfillApi'), file.openaiInfillApi), OPENAI_INFILL_APIS, 'completions');
  // A boolean flag can only switch on; the environment and the settings file can also switch off.
  const openaiDiffusing =
    (flags['openai-diffusing'] === true ? true : undefined) ??
    toBoolean('DIFFUSION_LLM_OPENAI_DIFFUSING', env.DIFFUSION_LLM_OPENAI_DIFFUSING) ??
    file.openaiDiffusing ??
    false;
  const token = pick(given('token'), file.token ?? undefined) ?? null;
  if (!isLoopbackHost(host) && token === null) {
    throw new ConfigError(`listening on ${host} exposes the server beyond this machine; set --token (or DIFFUSION_MONITOR_TOKEN) to require a bearer token`);
  }
  if (!isLoopbackHost(host) && token !== null && token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`listening on ${host} needs a token of at least ${MIN_TOKEN_LENGTH} characters; this one has ${token.length}`);
  }
  const allowedRaw = given('allowedHosts');
  const allowedHosts =
    allowedRaw !== undefined
      ? allowedRaw
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean)
      : (file.allowedHosts ?? []);
  const db = pick(given('db'), file.db);

  return {
    host,
    port,
    dbPath: db === ':memory:' ? db : resolve(input.cwd, db ?? input.defaultDbPath ?? 'metrics.db'),
    backendUrl: normaliseUrl(pick(given('backend'), file.backend ?? undefined)),
    backendKind: kind as BackendKind,
    model: pick(given('model'), file.model ?? undefined) ?? null,
    timeoutSeconds,
    apiKey: pick(given('apiKey'), file.apiKey ?? undefined) ?? null,
    openaiGenerateApi,
    openaiInfillApi,
    openaiDiffusing,
    token,
    allowedHosts,
    // A file named on purpose is the one saves go to, even before it exists.
    settingsFile: settingsPath && (explicitSettings !== undefined || existsSync(settingsPath)) ? settingsPath : null,
    influx: resolveInfluxPush(flag, env, file),
    limits: resolveLimits(flag, env),
    help: flags.help === true,
  };
}
