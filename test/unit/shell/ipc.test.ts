import * as electron from 'electron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_KEYS, API_METHODS, channelOf, failure, ok, type DiffusionMonitorApi, type LiveUpdate } from '../../../src/shared/api';
import type { StreamFrame } from '../../../src/shared/frames';
import { silentLogger } from '../../../src/shared/logger';
import { registerApiHandlers, type IpcRegistration } from '../../../src/main/shell/ipc';
import { isTrustedSender } from '../../../src/main/shell/trustedSender';
import { FakeWebContents, type FakeIpcMain } from './electronFake';

vi.mock('electron', async () => (await import('./electronFake')).fakeElectron());

const ipcMain = electron.ipcMain as unknown as FakeIpcMain;

/** An API whose methods record their calls; streams and subscriptions are driven by the test. */
function fakeApi() {
  const live = new Set<(update: LiveUpdate) => void>();
  const runs: Array<{ onFrame: (frame: StreamFrame) => void; finish: (text: string) => void; cancel: ReturnType<typeof vi.fn> }> = [];
  const api: DiffusionMonitorApi = {
    appInfo: vi.fn(async () => failure('internal', 'not used')),
    summary: vi.fn(async () => ok({ overall: { total_requests: 3 } } as never)),
    series: vi.fn(async () => {
      throw new Error('boom');
    }),
    events: vi.fn(async (query) => ok({ events: [], nextBefore: null, query } as never)),
    models: vi.fn(async () => ok({ models: ['m'], defaultModel: 'm', backend: 'dllm' })),
    health: vi.fn(async () =>
      ok({ backend: { configured: true, kind: 'dllm', url: 'http://m', reachable: true, models: ['m'], last_error: null, checked_at: 1, since: 1 } }),
    ),
    testConnection: vi.fn(async () => ok({ models: [], latencyMs: 1 })),
    getSettings: vi.fn(async () => failure('internal', 'not used')),
    saveSettings: vi.fn(async () => failure('internal', 'not used')),
    changePort: vi.fn(async () => failure('internal', 'not used')),
    liveUpdates: vi.fn((listener) => {
      live.add(listener);
      return () => live.delete(listener);
    }),
    appCommands: vi.fn(() => () => {}),
    run: vi.fn((_request, onFrame) => {
      let finish: (text: string) => void = () => {};
      const result = new Promise<ReturnType<typeof ok>>((resolve) => {
        finish = (text) => resolve(ok({ text }));
      });
      const cancel = vi.fn(() => finish('cancelled'));
      runs.push({ onFrame, finish, cancel });
      return { result: result as never, cancel };
    }),
    export: vi.fn(() => ({ result: Promise.resolve(ok({ saved: false, location: null, bytes: 0, rows: null })), cancel: () => {} })),
  };
  return { api, live, runs };
}

const DEV_URL = undefined;
let registration: IpcRegistration | undefined;

function register(api: DiffusionMonitorApi): IpcRegistration {
  registration = registerApiHandlers(api, { isTrusted: (event) => isTrustedSender(event.senderFrame, DEV_URL), log: silentLogger });
  return registration;
}

afterEach(() => {
  registration?.dispose();
  registration = undefined;
});

describe('registerApiHandlers', () => {
  it('registers one channel per key of the API, named after the key', () => {
    register(fakeApi().api);
    expect([...ipcMain.handlers.keys()].sort()).toEqual(API_KEYS.map((key) => channelOf(key)).sort());
    for (const key of API_KEYS) {
      const listens = ipcMain.listenerCount(channelOf(key, 'cancel'));
      expect(listens, key).toBe(API_METHODS[key] === 'invoke' ? 0 : 1);
    }
  });

  it('answers a trusted renderer with the method result, inputs validated and defaulted', async () => {
    const { api } = fakeApi();
    register(api);
    const sender = new FakeWebContents();
    await expect(ipcMain.invoke(channelOf('summary'), sender, '1h')).resolves.toEqual({ ok: true, value: { overall: { total_requests: 3 } } });
    expect(api.summary).toHaveBeenCalledWith('1h');
    await ipcMain.invoke(channelOf('events'), sender, { outcome: 'error' });
    expect(api.events).toHaveBeenCalledWith({ limit: 50, outcome: 'error' });
  });

  it('refuses invalid input with a validation error and never calls the method', async () => {
    const { api } = fakeApi();
    register(api);
    const sender = new FakeWebContents();
    const answer = (await ipcMain.invoke(channelOf('summary'), sender, '5y')) as { ok: boolean; error: { type: string; message: string } };
    expect(answer.ok).toBe(false);
    expect(answer.error.type).toBe('validation');
    expect(answer.error.message).toMatch(/^summary: /);
    const events = (await ipcMain.invoke(channelOf('events'), sender, { limit: 10_000, sneaky: true })) as { ok: boolean };
    expect(events.ok).toBe(false);
    expect(api.summary).not.toHaveBeenCalled();
    expect(api.events).not.toHaveBeenCalled();
  });

  it('refuses senders that are not our renderer: other origins, iframes, destroyed frames', async () => {
    const { api } = fakeApi();
    register(api);
    const foreign = new FakeWebContents('https://evil.example/');
    const iframe = new FakeWebContents();
    (iframe.mainFrame as unknown as { parent: object }).parent = {};
    const gone = new FakeWebContents();
    gone.mainFrame = null;
    for (const sender of [foreign, iframe, gone]) {
      const answer = (await ipcMain.invoke(channelOf('models'), sender)) as { ok: boolean; error: { type: string } };
      expect(answer).toMatchObject({ ok: false, error: { type: 'validation' } });
    }
    expect(api.models).not.toHaveBeenCalled();
    // Not even a stream starts.
    await ipcMain.invoke(channelOf('run'), foreign, 1, { mode: 'generate', body: { prompt: 'x' } });
    expect(api.run).not.toHaveBeenCalled();
  });

  it('turns a thrown error into an internal failure', async () => {
    register(fakeApi().api);
    await expect(ipcMain.invoke(channelOf('series'), new FakeWebContents(), '15m')).resolves.toEqual({
      ok: false,
      error: { type: 'internal', message: 'boom' },
    });
  });

  it('streams frames to the sender under the stream id and resolves with the result', async () => {
    const { api, runs } = fakeApi();
    register(api);
    const sender = new FakeWebContents();
    const answer = ipcMain.invoke(channelOf('run'), sender, 7, { mode: 'generate', body: { prompt: 'hello' } });
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    const run = runs[0] as (typeof runs)[number];
    run.onFrame({ type: 'step', step: 1, total_steps: 2, text: '<|mask|> b', masked: 1 });
    run.onFrame({ type: 'step', step: 2, total_steps: 2, text: 'a b', masked: 0 });
    run.finish('a b');
    await expect(answer).resolves.toEqual({ ok: true, value: { text: 'a b' } });
    expect(sender.sent.map((m) => [m.channel, m.args[0], (m.args[1] as StreamFrame).type])).toEqual([
      [channelOf('run', 'event'), 7, 'step'],
      [channelOf('run', 'event'), 7, 'step'],
    ]);
    expect(api.run).toHaveBeenCalledWith({ mode: 'generate', body: { prompt: 'hello' } }, expect.any(Function));
  });

  it('cancels a stream on request, and every stream of a window that goes away', async () => {
    const { api, runs } = fakeApi();
    register(api);
    const sender = new FakeWebContents();
    const first = ipcMain.invoke(channelOf('run'), sender, 1, { mode: 'generate', body: { prompt: 'a' } });
    void ipcMain.invoke(channelOf('run'), sender, 2, { mode: 'generate', body: { prompt: 'b' } });
    await vi.waitFor(() => expect(runs).toHaveLength(2));
    ipcMain.sendFrom(channelOf('run', 'cancel'), sender, 1);
    await first;
    expect(runs[0]?.cancel).toHaveBeenCalledTimes(1);
    expect(runs[1]?.cancel).not.toHaveBeenCalled();
    sender.destroy();
    expect(runs[1]?.cancel).toHaveBeenCalledTimes(1);
  });

  it('forwards live updates to each subscription until it is cancelled or its window is gone', async () => {
    const { api, live } = fakeApi();
    register(api);
    const a = new FakeWebContents();
    const b = new FakeWebContents();
    await expect(ipcMain.invoke(channelOf('liveUpdates'), a, 11)).resolves.toEqual({ ok: true, value: null });
    await ipcMain.invoke(channelOf('liveUpdates'), b, 12);
    expect(live.size).toBe(2);
    const update: LiveUpdate = { at: 1, count: 1, events: [] };
    for (const listener of live) listener(update);
    expect(a.sent).toEqual([{ channel: channelOf('liveUpdates', 'event'), args: [11, update] }]);
    ipcMain.sendFrom(channelOf('liveUpdates', 'cancel'), a, 11);
    expect(live.size).toBe(1);
    b.destroy();
    expect(live.size).toBe(0);
  });

  it('ends subscriptions of a page that reloads', async () => {
    const { api, live } = fakeApi();
    register(api);
    const sender = new FakeWebContents();
    await ipcMain.invoke(channelOf('liveUpdates'), sender, 1);
    sender.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    expect(live.size).toBe(0);
  });

  it('adds its listeners to a window once, however often the page reloads', async () => {
    const { api, live } = fakeApi();
    const registration = register(api);
    const sender = new FakeWebContents();
    for (let reload = 0; reload < 20; reload += 1) {
      await ipcMain.invoke(channelOf('liveUpdates'), sender, reload);
      sender.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    }
    expect(live.size).toBe(0);
    expect(sender.listenerCount('did-start-navigation')).toBe(1);
    expect(sender.listenerCount('destroyed')).toBe(1);
    // Same-document navigations (hash changes) keep what the page opened.
    await ipcMain.invoke(channelOf('liveUpdates'), sender, 99);
    sender.emit('did-start-navigation', { isMainFrame: true, isSameDocument: true });
    expect(live.size).toBe(1);
    registration.dispose();
    expect(sender.listenerCount('did-start-navigation')).toBe(0);
    expect(sender.listenerCount('destroyed')).toBe(0);
  });

  it('forgets a destroyed window and watches a new one afresh', async () => {
    const { api, live } = fakeApi();
    register(api);
    const first = new FakeWebContents();
    await ipcMain.invoke(channelOf('liveUpdates'), first, 1);
    first.destroy();
    expect(live.size).toBe(0);
    expect(first.listenerCount('did-start-navigation')).toBe(0);
    const second = new FakeWebContents();
    await ipcMain.invoke(channelOf('liveUpdates'), second, 2);
    second.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    expect(live.size).toBe(0);
  });

  it('removes every handler and ends every subscription on dispose', async () => {
    const { api, live } = fakeApi();
    const registration = register(api);
    await ipcMain.invoke(channelOf('liveUpdates'), new FakeWebContents(), 1);
    registration.dispose();
    expect(ipcMain.handlers.size).toBe(0);
    expect(live.size).toBe(0);
    for (const key of API_KEYS) expect(ipcMain.listenerCount(channelOf(key, 'cancel'))).toBe(0);
  });
});
