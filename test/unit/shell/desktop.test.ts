import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import * as electron from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HTTP_ROUTES, ok, type AppInfo, type DiffusionMonitorApi } from '../../../src/shared/api';
import { resolveConfig, type ResolveInput } from '../../../src/main/config';
import { silentLogger } from '../../../src/shared/logger';
import { SettingsService } from '../../../src/main/settingsService';
import { CommandBus, createDesktopApi } from '../../../src/main/shell/desktopApi';
import { DesktopCore } from '../../../src/main/shell/desktopCore';
import { tempDir } from '../../fixtures/tempDir';
import type { fakeElectron } from './electronFake';

vi.mock('electron', async () => (await import('./electronFake')).fakeElectron());

const fake = electron as unknown as ReturnType<typeof fakeElectron>;

let dir: ReturnType<typeof tempDir>;
let desktop: DesktopCore | undefined;
let blocker: Server | undefined;

function setUp(argv: string[]): { api: DiffusionMonitorApi; desktop: DesktopCore; settings: SettingsService; input: ResolveInput } {
  const input: ResolveInput = {
    argv,
    env: {},
    cwd: dir.path,
    defaultSettingsFile: dir.file('userData/settings.json'),
    defaultDbPath: dir.file('userData/metrics.db'),
  };
  const config = resolveConfig(input);
  const settings = new SettingsService({ input, file: dir.file('userData/settings.json') });
  desktop = new DesktopCore(config, { settings, log: silentLogger, rendererDir: dir.file('no-renderer') });
  const api = createDesktopApi({ desktop, settings, commands: new CommandBus(), window: () => null, log: silentLogger });
  return { api, desktop, settings, input };
}

beforeEach(() => {
  dir = tempDir();
  fake.dialog.showSaveDialog.mockReset();
});
afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
  dir.cleanup();
});

describe('the desktop API', () => {
  it('saves settings to the user-data file and applies the backend without a restart', async () => {
    const { api, desktop } = setUp(['--port', '0']);
    await desktop.start();
    const saved = await api.saveSettings({ backend: 'http://127.0.0.1:8123', model: 'dream-v0-instruct-7b', port: 7345 });
    expect(saved.ok).toBe(true);
    if (!saved.ok) return;
    expect(saved.value.applied.sort()).toEqual(['backend', 'model']);
    expect(saved.value.restartRequired).toEqual([]);
    // --port 0 overrides the file, so saving a port changes nothing until the flag is gone.
    expect(saved.value.settings.overridden).toContain('port');
    expect(desktop.core?.backend().url).toBe('http://127.0.0.1:8123');
    expect(JSON.parse(readFileSync(dir.file('userData/settings.json'), 'utf8'))).toEqual({
      backend: 'http://127.0.0.1:8123',
      model: 'dream-v0-instruct-7b',
      port: 7345,
    });
    const info = await api.appInfo();
    expect(info.ok && info.value.backend).toEqual({ kind: 'dllm', url: 'http://127.0.0.1:8123', model: 'dream-v0-instruct-7b' });
  });

  it('serves one monitor service: a save in the browser shows over IPC, and the reverse', async () => {
    const { api, desktop } = setUp(['--port', '0']);
    await desktop.start();
    const url = desktop.core?.server.url ?? '';
    const response = await fetch(`${url}${HTTP_ROUTES.saveSettings.path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ backend: 'http://127.0.0.1:8124' }),
    });
    expect(response.status).toBe(200);
    const overIpc = await api.appInfo();
    expect(overIpc.ok && overIpc.value).toMatchObject({ transport: 'ipc', backend: { url: 'http://127.0.0.1:8124' } });
    await api.saveSettings({ model: 'llada-8b' });
    const overHttp = (await (await fetch(`${url}${HTTP_ROUTES.appInfo.path}`)).json()) as AppInfo;
    expect(overHttp).toMatchObject({ transport: 'http', backend: { url: 'http://127.0.0.1:8124', model: 'llada-8b' } });
    expect(desktop.service).toBe(desktop.core?.service);
  });

  it('exports through the save dialog: the file holds what the export route serves', async () => {
    const { api, desktop } = setUp(['--port', '0']);
    await desktop.start();
    const core = desktop.core;
    if (!core) throw new Error('core did not start');
    core.store.record({
      endpoint: 'generate',
      modelId: 'm',
      userId: 'u',
      startedAt: Date.now() / 1000,
      duration: 0.5,
      requestId: 'r1',
      status: 200,
      params: {},
      outputText: 'hello world!',
    });
    core.store.flush();
    const target = dir.file('metrics.prom');
    fake.dialog.showSaveDialog.mockResolvedValue({ canceled: false, filePath: target });
    const progress = vi.fn();
    const handle = api.export({ format: 'prometheus', window: 'all' }, progress);
    const result = await handle.result;
    expect(result).toMatchObject({ ok: true, value: { saved: true, location: target } });
    const dialogOptions = fake.dialog.showSaveDialog.mock.calls[0]?.[0] as { defaultPath: string };
    expect(dialogOptions.defaultPath).toMatch(/^\/fake\/downloads\/diffusion-monitor-all-\d{4}-\d{2}-\d{2}T\d{4}\.prom$/);
    const served = await (await fetch(`${core.server.url}/api/diffusion/metrics/export?format=prometheus`)).text();
    expect(readFileSync(target, 'utf8')).toBe(served);
    expect(progress).toHaveBeenCalled();

    fake.dialog.showSaveDialog.mockResolvedValue({ canceled: false, filePath: dir.file('events.csv') });
    const csv = await api.export({ format: 'csv', window: 'all' }, () => {}).result;
    expect(csv).toMatchObject({ ok: true, value: { saved: true, rows: 1 } });
    expect(readFileSync(dir.file('events.csv'), 'utf8').trim().split('\r\n')).toHaveLength(2);
  });

  it('does nothing when the save dialog is dismissed', async () => {
    const { api, desktop } = setUp(['--port', '0']);
    await desktop.start();
    fake.dialog.showSaveDialog.mockResolvedValue({ canceled: true, filePath: '' });
    await expect(api.export({ format: 'json' }, () => {}).result).resolves.toEqual(ok({ saved: false, location: null, bytes: 0, rows: null }));
  });

  it('reports a taken port instead of dying, then starts on the port the user picks and saves it', async () => {
    blocker = createServer();
    const taken = await new Promise<number>((resolve) => blocker?.listen(0, '127.0.0.1', () => resolve((blocker?.address() as { port: number }).port)));
    // The port comes from the settings file here (no --port flag), so saving another one takes effect.
    mkdirSync(dir.file('userData'));
    writeFileSync(dir.file('userData/settings.json'), JSON.stringify({ port: taken }));
    const { api, desktop } = setUp([]);
    await desktop.start();
    const info = await api.appInfo();
    expect(info.ok && info.value.startupProblem).toMatchObject({ type: 'port_in_use', port: taken });
    const suggested = info.ok ? info.value.startupProblem?.suggestedPort : null;
    expect(suggested).toBeGreaterThan(taken);
    expect(await api.summary('1h')).toMatchObject({ ok: false, error: { type: 'model_unavailable' } });
    expect(await api.getSettings()).toMatchObject({ ok: true });

    const changed = await api.changePort(suggested as number);
    expect(changed).toMatchObject({ ok: true, value: { startupProblem: null, serverUrl: `http://127.0.0.1:${suggested}` } });
    expect(JSON.parse(readFileSync(dir.file('userData/settings.json'), 'utf8'))).toEqual({ port: suggested });
    expect(await api.summary('1h')).toMatchObject({ ok: true });
  });
});
