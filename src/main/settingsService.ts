import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EditableSettings, SettingField, SettingsView } from '../shared/api';
import { EditableSettingsSchema, SettingsUpdateSchema, type SettingsUpdate } from '../shared/apiSchemas';
import { validationMessage } from '../shared/validation';
import { ConfigError, SettingsFileSchema, keysSetOutsideFile, resolveConfig, type AppConfig, type ResolveInput, type SettingsFile } from './config';

/** The Settings view's fields are a subset of the settings file, with the same types. */
const _editableFitsFile: (value: Partial<EditableSettings>) => SettingsFile = (value) => value;

/** Where each editable setting lives in the resolved configuration. */
const CONFIG_KEY = {
  backend: 'backendUrl',
  backendKind: 'backendKind',
  model: 'model',
  timeout: 'timeoutSeconds',
  apiKey: 'apiKey',
  openaiGenerateApi: 'openaiGenerateApi',
  openaiInfillApi: 'openaiInfillApi',
  openaiDiffusing: 'openaiDiffusing',
  port: 'port',
  db: 'dbPath',
  token: 'token',
} as const satisfies { [F in SettingField]: { [K in keyof AppConfig]: AppConfig[K] extends EditableSettings[F] ? K : never }[keyof AppConfig] };

const EDITABLE_FIELDS = Object.keys(EditableSettingsSchema.shape) as SettingField[];

/** Fields the running process can take over without a restart (the backend client is rebuilt). */
export const LIVE_FIELDS: ReadonlySet<SettingField> = new Set<SettingField>([
  'backend',
  'backendKind',
  'model',
  'timeout',
  'apiKey',
  'openaiGenerateApi',
  'openaiInfillApi',
  'openaiDiffusing',
]);

/**
 * The running configuration with the live fields of `next` taken over; the rest (port,
 * database, token) keep their running values until the next start.
 */
export function applyLiveSettings(running: AppConfig, next: AppConfig): AppConfig {
  const applied: Record<string, unknown> = { ...running };
  for (const field of LIVE_FIELDS) applied[CONFIG_KEY[field]] = next[CONFIG_KEY[field]];
  return applied as unknown as AppConfig;
}

/** The editable settings a resolved configuration runs with. */
export function effectiveSettings(config: AppConfig): EditableSettings {
  return Object.fromEntries(EDITABLE_FIELDS.map((field) => [field, config[CONFIG_KEY[field]]])) as unknown as EditableSettings;
}

export interface SettingsServiceOptions {
  /** How this process resolved its configuration (flags, environment, working folder, defaults). */
  input: ResolveInput;
  /** The settings file saves go to; `null` when there is none (saves are refused). */
  file: string | null;
}

/** The settings file a process saves to: the one it read, else its default (none without either). */
export function settingsFileOf(input: ResolveInput, config: AppConfig): string | null {
  return config.settingsFile ?? input.defaultSettingsFile ?? null;
}

/** What a save wrote, and the configuration the file now resolves to. */
export interface SavedSettings {
  /** The fields whose saved value changed. */
  changed: SettingField[];
  /** Flags, environment and the new file, resolved (once). */
  config: AppConfig;
}

/**
 * Reads and writes the settings file the configuration is resolved from. Saves are validated
 * against the file's schema, keep fields this view does not edit, and replace the file
 * atomically; the effective configuration is then resolved again with the usual precedence
 * (flag > environment > file > default).
 */
export class SettingsService {
  readonly file: string | null;
  /** Fields a flag or an environment variable sets: the file's value waits for them to go. */
  readonly overridden: readonly SettingField[];
  private readonly input: ResolveInput;

  constructor(options: SettingsServiceOptions) {
    this.file = options.file;
    this.input = options.file === null ? options.input : { ...options.input, defaultSettingsFile: options.file };
    const outside = new Set<string>(keysSetOutsideFile(this.input));
    this.overridden = EDITABLE_FIELDS.filter((field) => outside.has(field));
  }

  /** The configuration with flags, environment and the current file applied. */
  resolve(): AppConfig {
    return resolveConfig(this.input);
  }

  /** The file's raw JSON object (`{}` when it does not exist yet). */
  private readRaw(): Record<string, unknown> {
    if (this.file === null || !existsSync(this.file)) return {};
    const text = readFileSync(this.file, 'utf8');
    // An empty file is an empty settings object, as the configuration reads it.
    if (text.trim() === '') return {};
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`settings file ${this.file} does not hold a JSON object`);
    return parsed as Record<string, unknown>;
  }

  /** What the Settings view shows, for a process running with `running`. */
  view(running: AppConfig): SettingsView {
    const raw = this.readRaw();
    const saved: Partial<EditableSettings> = {};
    for (const field of EDITABLE_FIELDS) {
      const parsed = EditableSettingsSchema.shape[field].safeParse(raw[field]);
      if (raw[field] !== undefined && parsed.success) (saved as Record<string, unknown>)[field] = parsed.data;
    }
    return { saved, effective: effectiveSettings(running), overridden: [...this.overridden], file: this.file };
  }

  /**
   * Merges `update` into the file and writes it, once the result resolves together with the
   * flags and environment. Throws `ConfigError` when it would not be a loadable configuration.
   */
  save(update: SettingsUpdate): SavedSettings {
    if (this.file === null) {
      throw new ConfigError('this server has no settings file to save to; start it with --settings FILE');
    }
    const parsedUpdate = SettingsUpdateSchema.safeParse(update);
    if (!parsedUpdate.success) throw new ConfigError(validationMessage(parsedUpdate.error, { schema: SettingsUpdateSchema, where: 'settings' }));
    const checked = parsedUpdate.data;
    const before = this.readRaw();
    const next: Record<string, unknown> = { ...before };
    const changed: SettingField[] = [];
    for (const field of EDITABLE_FIELDS) {
      if (!(field in checked)) continue;
      const value = checked[field];
      if (JSON.stringify(before[field] ?? null) !== JSON.stringify(value ?? null)) changed.push(field);
      if (value === null) delete next[field];
      else next[field] = value;
    }
    const valid = SettingsFileSchema.safeParse(next);
    if (!valid.success) throw new ConfigError(validationMessage(valid.error, { schema: SettingsFileSchema, where: 'settings' }));
    const config = resolveConfig(this.input, valid.data);
    this.write(this.file, next);
    return { changed, config };
  }

  /** Writes beside the file, then renames over the old one. */
  private write(file: string, content: Record<string, unknown>): void {
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    // The file may hold the server token and the backend API key: readable by this user only.
    writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
    try {
      renameSync(temporary, file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }
}
