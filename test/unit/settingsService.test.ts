import { readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, type ResolveInput } from '../../src/main/config';
import { SettingsService, applyLiveSettings, effectiveSettings } from '../../src/main/settingsService';
import { tempDir } from '../fixtures/tempDir';

let dir: ReturnType<typeof tempDir>;
let input: ResolveInput;
let file: string;

beforeEach(() => {
  dir = tempDir();
  file = dir.file('settings.json');
  input = { argv: [], env: {}, cwd: dir.path, defaultSettingsFile: file, defaultDbPath: dir.file('metrics.db') };
});
afterEach(() => dir.cleanup());

describe('SettingsService', () => {
  it('saves changed fields, keeps the ones it does not edit, and reports what changed', () => {
    writeFileSync(file, JSON.stringify({ host: '127.0.0.1', allowedHosts: ['monitor.local'], timeout: 60 }));
    const settings = new SettingsService({ input, file });
    const { changed } = settings.save({ backend: 'http://127.0.0.1:8000', backendKind: 'dllm', timeout: 60, port: 7100 });
    expect(changed.sort()).toEqual(['backend', 'backendKind', 'port']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      host: '127.0.0.1',
      allowedHosts: ['monitor.local'],
      timeout: 60,
      backend: 'http://127.0.0.1:8000',
      backendKind: 'dllm',
      port: 7100,
    });
    const resolved = settings.resolve();
    expect(resolved.backendUrl).toBe('http://127.0.0.1:8000');
    expect(resolved.port).toBe(7100);
    // The save hands back what the new file resolves to, so the caller need not resolve again.
    const again = settings.save({ model: 'llada-8b' });
    expect(again).toMatchObject({ changed: ['model'], config: { ...resolved, model: 'llada-8b', settingsFile: file } });
  });

  it('creates a --settings file that does not exist yet on the first save', () => {
    const named = dir.file('sub/later.json');
    const withFlag: ResolveInput = { ...input, argv: ['--settings', named] };
    const config = resolveConfig(withFlag);
    expect(config.settingsFile).toBe(named);
    const settings = new SettingsService({ input: withFlag, file: config.settingsFile });
    expect(settings.view(config).saved).toEqual({});
    settings.save({ model: 'dream' });
    expect(JSON.parse(readFileSync(named, 'utf8'))).toEqual({ model: 'dream' });
    expect(settings.resolve().model).toBe('dream');
  });

  it('clears a field saved as null, back to its default', () => {
    const settings = new SettingsService({ input, file });
    settings.save({ model: 'dream-v0-instruct-7b' });
    expect(settings.resolve().model).toBe('dream-v0-instruct-7b');
    expect(settings.save({ model: null }).changed).toEqual(['model']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({});
    expect(settings.resolve().model).toBeNull();
  });

  it('creates the folder and writes the file readable by its owner only (it may hold tokens)', () => {
    const nested = dir.file('profile/nested/settings.json');
    const settings = new SettingsService({ input: { ...input, defaultSettingsFile: nested }, file: nested });
    settings.save({ token: 'a-long-secret-token' });
    expect(statSync(nested).mode & 0o777).toBe(0o600);
  });

  it('refuses values the configuration would reject, leaving the file as it was', () => {
    writeFileSync(file, JSON.stringify({ timeout: 60 }));
    const settings = new SettingsService({ input, file });
    expect(() => settings.save({ backend: 'ftp://example.com' } as never)).toThrow();
    expect(() => settings.save({ port: 70_000 })).toThrow();
    expect(() => settings.save({ token: 'short' })).toThrow();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ timeout: 60 });
    expect(readdirSync(dir.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to save when there is no file to save to', () => {
    const settings = new SettingsService({ input: { ...input, defaultSettingsFile: undefined }, file: null });
    expect(() => settings.save({ timeout: 10 })).toThrow(ConfigError);
  });

  it('shows saved values, effective values, and which fields a flag or the environment overrides', () => {
    writeFileSync(file, JSON.stringify({ backend: 'http://127.0.0.1:8000', timeout: 30 }));
    const withFlags: ResolveInput = { ...input, argv: ['--backend', 'http://127.0.0.1:9000'], env: { DIFFUSION_LLM_TIMEOUT: '45' } };
    const settings = new SettingsService({ input: withFlags, file });
    const running = resolveConfig(withFlags);
    const view = settings.view(running);
    expect(view.saved).toEqual({ backend: 'http://127.0.0.1:8000', timeout: 30 });
    expect(view.effective).toMatchObject({ backend: 'http://127.0.0.1:9000', timeout: 45, db: dir.file('metrics.db') });
    expect(view.overridden.sort()).toEqual(['backend', 'timeout']);
    expect(view.file).toBe(file);
  });

  it('survives a reload: a new service over the same file sees the saved values', () => {
    new SettingsService({ input, file }).save({ backendKind: 'openai', openaiDiffusing: true });
    const again = new SettingsService({ input, file });
    expect(again.view(again.resolve()).saved).toEqual({ backendKind: 'openai', openaiDiffusing: true });
    expect(existsSync(file)).toBe(true);
  });
});

describe('applyLiveSettings', () => {
  it('takes over the backend fields and keeps port, database and token until the next start', () => {
    const running = resolveConfig({ ...input, argv: ['--port', '7000'] });
    const next = {
      ...running,
      port: 7100,
      dbPath: '/elsewhere.db',
      token: 'a-long-secret-token',
      backendUrl: 'http://127.0.0.1:8000',
      model: 'm',
      timeoutSeconds: 5,
    };
    const applied = effectiveSettings(applyLiveSettings(running, next));
    expect(applied).toMatchObject({ backend: 'http://127.0.0.1:8000', model: 'm', timeout: 5, port: 7000, db: running.dbPath, token: null });
  });
});
