import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/main/config';
import { tempDir } from '../fixtures/tempDir';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

function settings(values: Record<string, unknown>): string {
  const dir = tempDir();
  dirs.push(dir);
  const path = dir.file('settings.json');
  writeFileSync(path, JSON.stringify(values));
  return path;
}

describe('resolveConfig', () => {
  it('has the documented defaults', () => {
    const config = resolveConfig({ argv: [], env: {}, cwd: '/srv' });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 7000,
      dbPath: '/srv/metrics.db',
      backendUrl: null,
      backendKind: 'dllm',
      model: null,
      timeoutSeconds: 120,
      token: null,
    });
  });

  it('takes flag over environment over settings file over default', () => {
    const file = settings({ port: 7300, model: 'from-file', timeout: 30, backend: 'http://file:1' });
    const env = { DIFFUSION_MONITOR_PORT: '7200', DIFFUSION_LLM_MODEL: 'from-env', DIFFUSION_MONITOR_SETTINGS: file };
    expect(resolveConfig({ argv: ['--port', '7100'], env, cwd: '/' }).port).toBe(7100);
    expect(resolveConfig({ argv: [], env, cwd: '/' }).port).toBe(7200);
    expect(resolveConfig({ argv: [], env: { DIFFUSION_MONITOR_SETTINGS: file }, cwd: '/' }).port).toBe(7300);
    const merged = resolveConfig({ argv: ['--model', 'from-flag'], env, cwd: '/' });
    expect(merged).toMatchObject({ model: 'from-flag', timeoutSeconds: 30, backendUrl: 'http://file:1' });
  });

  it('reads every environment variable of the brief', () => {
    const config = resolveConfig({
      argv: [],
      env: {
        DIFFUSION_MONITOR_HOST: 'localhost',
        METRICS_DB: '/tmp/m.db',
        DIFFUSION_LLM_BASE_URL: 'http://127.0.0.1:8000/',
        DIFFUSION_LLM_BACKEND: 'openai',
        DIFFUSION_LLM_TIMEOUT: '5',
        DIFFUSION_MONITOR_TOKEN: 's3cret',
      },
      cwd: '/',
    });
    expect(config).toMatchObject({
      host: 'localhost',
      dbPath: '/tmp/m.db',
      backendUrl: 'http://127.0.0.1:8000',
      backendKind: 'openai',
      timeoutSeconds: 5,
      token: 's3cret',
    });
  });

  it.each([
    [['--port', '70000'], /port must be an integer from 0 to 65535/],
    [['--port', 'abc'], /port must be/],
    [['--timeout', '0'], /timeout must be/],
    [['--backend-kind', 'grpc'], /backend kind must be one of dllm, openai/],
    [['--backend', 'ftp://x'], /must start with http:\/\/ or https:\/\//],
    [['--backend', 'localhost:8000'], /^backend URL "localhost:8000" needs its scheme: use http:\/\/localhost:8000$/],
    [['--timeout', '-3'], /^--timeout needs a value; for one that starts with "-", write --timeout=VALUE \(e\.g\. --timeout=-3\) \(see --help\)$/],
    [['--timeout=-3'], /^timeout must be a number of seconds above 0/],
    [['--backend', 'not a url'], /is not a URL/],
    [['--bogus'], /Unknown option/],
    [['--host', '0.0.0.0'], /set --token/],
  ])('rejects %j with one clear line', (argv, message) => {
    expect(() => resolveConfig({ argv, env: {}, cwd: '/' })).toThrow(ConfigError);
    expect(() => resolveConfig({ argv, env: {}, cwd: '/' })).toThrow(message);
  });

  it('allows a non-loopback host with a token', () => {
    expect(resolveConfig({ argv: ['--host', '0.0.0.0', '--token', 'sixteen-chars-ok'], env: {}, cwd: '/' }).host).toBe('0.0.0.0');
  });

  it('reports a broken settings file by name', () => {
    const path = settings({ port: 'seven' });
    expect(() => resolveConfig({ argv: ['--settings', path], env: {}, cwd: '/' })).toThrow(/settings file .*port/);
  });

  it('reports every unknown key (with the nearest known one) and every invalid value, on one line', () => {
    const path = settings({ prot: 7100, timeout: -3, backendKind: 'grpc', colour: 'blue' });
    let message = '';
    try {
      resolveConfig({ argv: ['--settings', path], env: {}, cwd: '/' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('\n');
    expect(message).toContain('unknown key "prot" (did you mean "port"?)');
    expect(message).toContain('unknown key "colour";');
    expect(message).toContain('"timeout" must be above 0 and at most 3600');
    expect(message).toContain('"backendKind" must be one of dllm, openai');
  });

  it('reads a settings file that does not exist yet, or is empty, as {} and keeps it as the file to save to', () => {
    const dir = tempDir('config-');
    const missing = dir.file('new-settings.json');
    const config = resolveConfig({ argv: ['--settings', missing], env: {}, cwd: '/' });
    expect(config.port).toBe(7000);
    expect(config.settingsFile).toBe(missing);
    writeFileSync(missing, '\n');
    expect(resolveConfig({ argv: ['--settings', missing], env: {}, cwd: '/' }).port).toBe(7000);
    dir.cleanup();
  });
});
