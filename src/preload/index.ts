import { contextBridge, ipcRenderer } from 'electron';
import {
  BRIDGE_NAME,
  channelOf,
  failure,
  type DiffusionMonitorApi,
  type InvokeKey,
  type Result,
  type StreamHandle,
  type StreamKey,
  type SubscribeKey,
} from '../shared/api';

/**
 * The preload exposes exactly one object, the API, and nothing of Electron: each method is a
 * thin stub over a channel derived from its key. It runs sandboxed, so it is bundled whole.
 */

let nextId = 1;
/** Listeners of streams and subscriptions by key, then id; one IPC listener per key. */
const listeners = new Map<string, Map<number, (payload: unknown) => void>>();

function listenersOf(key: SubscribeKey | StreamKey): Map<number, (payload: unknown) => void> {
  let byId = listeners.get(key);
  if (!byId) {
    const created = new Map<number, (payload: unknown) => void>();
    ipcRenderer.on(channelOf(key, 'event'), (_event, id: number, payload: unknown) => created.get(id)?.(payload));
    listeners.set(key, created);
    byId = created;
  }
  return byId;
}

function bridgeFailure(error: unknown): Result<never> {
  return failure('internal', `the app did not answer: ${(error as Error).message}`);
}

function invoke<K extends InvokeKey>(key: K): DiffusionMonitorApi[K] {
  const call = (input?: unknown): Promise<unknown> => ipcRenderer.invoke(channelOf(key), input).catch(bridgeFailure);
  return call as DiffusionMonitorApi[K];
}

function subscribe<K extends SubscribeKey>(key: K): DiffusionMonitorApi[K] {
  const call = (listener: (payload: unknown) => void): (() => void) => {
    const id = nextId++;
    listenersOf(key).set(id, listener);
    void ipcRenderer.invoke(channelOf(key), id).catch(() => listenersOf(key).delete(id));
    return () => {
      listenersOf(key).delete(id);
      ipcRenderer.send(channelOf(key, 'cancel'), id);
    };
  };
  return call as DiffusionMonitorApi[K];
}

function stream<K extends StreamKey>(key: K): DiffusionMonitorApi[K] {
  const call = (input: unknown, onEvent: (payload: unknown) => void): StreamHandle<unknown> => {
    const id = nextId++;
    listenersOf(key).set(id, onEvent);
    const result = (ipcRenderer.invoke(channelOf(key), id, input) as Promise<Result<unknown>>).catch(bridgeFailure).finally(() => listenersOf(key).delete(id));
    return { result, cancel: () => ipcRenderer.send(channelOf(key, 'cancel'), id) };
  };
  return call as DiffusionMonitorApi[K];
}

const api = {
  appInfo: invoke('appInfo'),
  summary: invoke('summary'),
  series: invoke('series'),
  events: invoke('events'),
  models: invoke('models'),
  health: invoke('health'),
  testConnection: invoke('testConnection'),
  getSettings: invoke('getSettings'),
  saveSettings: invoke('saveSettings'),
  changePort: invoke('changePort'),
  liveUpdates: subscribe('liveUpdates'),
  appCommands: subscribe('appCommands'),
  run: stream('run'),
  export: stream('export'),
} satisfies DiffusionMonitorApi;

contextBridge.exposeInMainWorld(BRIDGE_NAME, api);
