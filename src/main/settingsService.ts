import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EditableSettings, SettingField, SettingsView } from '../shared/api';
import { EditableSettingsSchema, SettingsUpdateSchema, type SettingsUpdate } from '../shared/apiSchemas';
import { ConfigError, SettingsFileSchema, resolveConfig, type AppConfig, type ResolveInput, type SettingsFile } from './config';

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

/**
 * Reads and writes the settings file the configuration is resolved from. Saves are validated
 * against the file's schema, keep fields this view does not edit, and replace the file
 * atomically; the effective configuration is then resolved again with the usual precedence
 * (flag > environment > file > default).
 */
export class SettingsService {
  readonly file: string | null;
  private readonly input: ResolveInput;

  constructor(options: SettingsServiceOptions) {
    this.file = options.file;
    this.input = options.file === null ? options.input : { ...options.input, defaultSettingsFile: options.file };
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
    const effective = effectiveSettings(running);
    // A field is overridden when resolving without flags and environment would give another value.
    let fileOnly: EditableSettings | null = null;
    try {
      fileOnly = effectiveSettings(resolveConfig({ ...this.input, argv: [], env: {} }));
    } catch {
      fileOnly = null;
    }
    let full: EditableSettings | null = null;
    try {
      full = effectiveSettings(this.resolve());
    } catch {
      full = null;
    }
    const overridden = fileOnly === null || full === null ? [] : EDITABLE_FIELDS.filter((field) => fileOnly[field] !== full[field]);
    return { saved, effective, overridden, file: this.file };
  }

  /**
   * Merges `update` into the file and writes it. Returns the fields whose saved value changed.
   * Throws `ConfigError` when the result would not be a loadable configuration.
   */
  save(update: SettingsUpdate): SettingField[] {
    if (this.file === null) {
      throw new ConfigError('this server has no settings file to save to; start it with --settings FILE');
    }
    const checked = SettingsUpdateSchema.parse(update);
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
    if (!valid.success) {
      const issue = valid.error.issues[0];
      throw new ConfigError(`${issue?.path.join('.') || 'settings'}: ${issue?.message ?? 'invalid'}`);
    }
    this.write(this.file, next);
    return changed;
  }

  /** Writes beside the file, checks the result resolves, then renames over the old file. */
  private write(file: string, content: Record<string, unknown>): void {
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    // The file may hold the server token and the backend API key: readable by this user only.
    writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
    try {
      resolveConfig({ ...this.input, argv: [], env: {}, defaultSettingsFile: temporary });
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    renameSync(temporary, file);
  }
}
