import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import {
  API_KEYS,
  API_METHODS,
  channelOf,
  failure,
  ok,
  type ApiKey,
  type DiffusionMonitorApi,
  type Result,
  type StreamHandle,
  type Unsubscribe,
} from '../../shared/api';
import type { z } from 'zod';
import { API_INPUTS } from '../../shared/apiSchemas';
import type { Logger } from '../../shared/logger';
import { validationMessage } from '../../shared/validation';

export interface IpcOptions {
  /** Whether a message comes from our renderer (see `isTrustedSender`). */
  isTrusted: (event: IpcMainEvent | IpcMainInvokeEvent) => boolean;
  log: Logger;
}

export interface IpcRegistration {
  /** Removes every handler and ends every stream and subscription. */
  dispose(): void;
}

type AnyInvoke = (input?: unknown) => Promise<Result<unknown>>;
type AnySubscribe = (listener: (payload: unknown) => void) => Unsubscribe;
type AnyStream = (input: unknown, onEvent: (payload: unknown) => void) => StreamHandle<unknown>;

const UNTRUSTED = failure('validation', 'this window may not call the Diffusion Monitor API');

/** Parses a method's input with its schema; methods without one take nothing. */
function parseInput(key: ApiKey, input: unknown): { ok: true; value: unknown } | { ok: false; error: { type: 'validation'; message: string } } {
  const schema = (API_INPUTS as Partial<Record<ApiKey, z.ZodType>>)[key];
  if (!schema) return { ok: true, value: undefined };
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, error: { type: 'validation', message: `${key}: ${validationMessage(parsed.error, { schema, where: 'input' })}` } };
}

/**
 * Registers one IPC handler per key of the API, on channels derived from the keys. Every input is
 * validated, every sender checked, every answer is a `Result`. Streams and subscriptions are
 * tracked per window and ended when it goes away or reloads.
 */
export function registerApiHandlers(api: DiffusionMonitorApi, options: IpcOptions): IpcRegistration {
  /** Per web contents: open streams and subscriptions by `key:id`. */
  const open = new Map<number, Map<string, () => void>>();

  /**
   * Per web contents: how to detach the listeners that end its streams. Attached once per
   * WebContents, not once per page: a reload keeps the WebContents, and re-adding on every
   * reload would pile up listeners (MaxListenersExceededWarning after ~10 dev reloads).
   */
  const watched = new Map<number, { sender: WebContents; detach: () => void }>();

  const endAll = (id: number): void => {
    const current = open.get(id);
    open.delete(id);
    for (const end of current?.values() ?? []) end();
  };
  const watch = (sender: WebContents): void => {
    if (watched.has(sender.id)) return;
    const id = sender.id;
    // A reload starts a new page: what the old page opened is ended.
    const onNavigation = (details: { isMainFrame?: boolean; isSameDocument?: boolean }): void => {
      if (details.isMainFrame && !details.isSameDocument) endAll(id);
    };
    const onDestroyed = (): void => {
      sender.off('did-start-navigation', onNavigation);
      watched.delete(id);
      endAll(id);
    };
    sender.on('did-start-navigation', onNavigation);
    sender.once('destroyed', onDestroyed);
    watched.set(id, {
      sender,
      detach: () => {
        sender.off('did-start-navigation', onNavigation);
        sender.off('destroyed', onDestroyed);
      },
    });
  };
  const track = (sender: WebContents, handle: string, stop: () => void): void => {
    watch(sender);
    let mine = open.get(sender.id);
    if (!mine) {
      mine = new Map();
      open.set(sender.id, mine);
    }
    mine.set(handle, stop);
  };
  const untrack = (sender: WebContents, handle: string): (() => void) | undefined => {
    const stop = open.get(sender.id)?.get(handle);
    open.get(sender.id)?.delete(handle);
    return stop;
  };
  const send = (sender: WebContents, channel: string, id: number, payload: unknown): void => {
    if (!sender.isDestroyed()) sender.send(channel, id, payload);
  };

  const channels: Array<{ channel: string; invoke: boolean }> = [];

  for (const key of API_KEYS) {
    const kind = API_METHODS[key];
    const channel = channelOf(key);
    const eventChannel = channelOf(key, 'event');
    const cancelChannel = channelOf(key, 'cancel');

    if (kind === 'invoke') {
      const method = (api[key] as AnyInvoke).bind(api);
      ipcMain.handle(channel, async (event, input: unknown) => {
        if (!options.isTrusted(event)) return UNTRUSTED;
        const parsed = parseInput(key, input);
        if (!parsed.ok) return parsed;
        try {
          return await method(parsed.value);
        } catch (error) {
          options.log.error(`IPC ${key}: ${(error as Error).stack ?? String(error)}`);
          return failure('internal', (error as Error).message);
        }
      });
      channels.push({ channel, invoke: true });
      continue;
    }

    if (kind === 'subscribe') {
      const method = (api[key] as AnySubscribe).bind(api);
      ipcMain.handle(channel, (event, id: unknown) => {
        if (!options.isTrusted(event)) return UNTRUSTED;
        if (!Number.isSafeInteger(id)) return failure('validation', `${key}: subscription id must be an integer`);
        const sender = event.sender;
        const unsubscribe = method((payload) => send(sender, eventChannel, id as number, payload));
        track(sender, `${key}:${String(id)}`, unsubscribe);
        return ok(null);
      });
    } else {
      const method = (api[key] as AnyStream).bind(api);
      ipcMain.handle(channel, async (event, id: unknown, input: unknown) => {
        if (!options.isTrusted(event)) return UNTRUSTED;
        if (!Number.isSafeInteger(id)) return failure('validation', `${key}: stream id must be an integer`);
        const parsed = parseInput(key, input);
        if (!parsed.ok) return parsed;
        const sender = event.sender;
        const handle = `${key}:${String(id)}`;
        let stream: StreamHandle<unknown>;
        try {
          stream = method(parsed.value, (payload) => send(sender, eventChannel, id as number, payload));
        } catch (error) {
          return failure('internal', (error as Error).message);
        }
        track(sender, handle, () => stream.cancel());
        try {
          return await stream.result;
        } finally {
          untrack(sender, handle);
        }
      });
    }
    // Ending a stream or subscription early; unknown ids are ignored.
    ipcMain.on(cancelChannel, (event, id: unknown) => {
      if (!options.isTrusted(event)) return;
      untrack(event.sender, `${key}:${String(id)}`)?.();
    });
    channels.push({ channel, invoke: true }, { channel: cancelChannel, invoke: false });
  }

  return {
    dispose: () => {
      for (const { channel, invoke } of channels) {
        if (invoke) ipcMain.removeHandler(channel);
        else ipcMain.removeAllListeners(channel);
      }
      for (const mine of open.values()) for (const end of mine.values()) end();
      open.clear();
      for (const { sender, detach } of watched.values()) if (!sender.isDestroyed()) detach();
      watched.clear();
    },
  };
}
