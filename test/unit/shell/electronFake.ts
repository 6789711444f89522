import { EventEmitter } from 'node:events';
import { vi } from 'vitest';

/**
 * Stand-ins for the Electron objects the shell uses, for `vi.mock('electron')`: they record what
 * the shell registers and let a test play the renderer's part. No shell behaviour lives here.
 */
export class FakeIpcMain extends EventEmitter {
  readonly handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();

  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, handler);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** What `ipcRenderer.invoke` does: call the handler with an event from `sender`. */
  async invoke(channel: string, sender: FakeWebContents, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler({ sender, senderFrame: sender.mainFrame }, ...args);
  }

  /** What `ipcRenderer.send` does. */
  sendFrom(channel: string, sender: FakeWebContents, ...args: unknown[]): void {
    this.emit(channel, { sender, senderFrame: sender.mainFrame }, ...args);
  }
}

let nextId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  destroyed = false;
  mainFrame: { url: string; parent: null } | null;

  constructor(url = 'app://diffusion-monitor/index.html') {
    super();
    this.mainFrame = { url, parent: null };
  }

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  destroy(): void {
    this.destroyed = true;
    this.emit('destroyed');
  }
}

export function fakeElectron() {
  return {
    ipcMain: new FakeIpcMain(),
    app: { getPath: vi.fn((name: string) => `/fake/${name}`), isPackaged: false },
    dialog: { showSaveDialog: vi.fn() },
    shell: { openExternal: vi.fn(async () => undefined) },
    protocol: { handle: vi.fn(), registerSchemesAsPrivileged: vi.fn() },
    contextBridge: { exposeInMainWorld: vi.fn() },
    ipcRenderer: { invoke: vi.fn(), send: vi.fn(), on: vi.fn() },
    BrowserWindow: vi.fn(),
    Menu: { buildFromTemplate: vi.fn(), setApplicationMenu: vi.fn() },
  };
}
