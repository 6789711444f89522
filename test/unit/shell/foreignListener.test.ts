import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig, type ResolveInput } from '../../../src/main/config';
import { silentLogger } from '../../../src/shared/logger';
import { SettingsService } from '../../../src/main/settingsService';
import { DesktopCore } from '../../../src/main/shell/desktopCore';
import { acceptsConnections, detectForeignListener, foreignListener, nextPortWithoutListener } from '../../../src/main/shell/foreignListener';
import { tempDir } from '../../fixtures/tempDir';

const servers: Server[] = [];
const dirs: Array<{ cleanup(): void }> = [];
let desktop: DesktopCore | undefined;

/** A listener that is not us, on one loopback address only (as AirPlay answers `localhost` = ::1). */
function listenOn(host: string, port = 0): Promise<number> {
  const server = createServer((socket) => {
    // The probe hangs up at once; that reset is expected.
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\nServer: AirTunes/860.7.1\r\n\r\n');
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve((server.address() as { port: number }).port));
  });
}

afterEach(async () => {
  await desktop?.stop();
  desktop = undefined;
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  for (const dir of dirs.splice(0)) dir.cleanup();
});

describe('foreignListener', () => {
  it('finds a listener on ::1 alone, where our 127.0.0.1 listen would still succeed', async () => {
    const port = await listenOn('::1');
    expect(await acceptsConnections('127.0.0.1', port)).toBe(false);
    expect(await foreignListener(port)).toBe('::1');
  });

  it('finds one on 127.0.0.1, and none on a port nobody holds', async () => {
    const port = await listenOn('127.0.0.1');
    expect(await foreignListener(port)).toBe('127.0.0.1');
    const free = await nextPortWithoutListener('127.0.0.1', port);
    expect(free).not.toBeNull();
    expect(await foreignListener(free as number)).toBeNull();
  });

  it('offers the next port nobody answers on, on either address', async () => {
    const listening = new Set(['::1:7000', '127.0.0.1:7001']);
    const probe = async (host: string, port: number): Promise<boolean> => listening.has(`${host}:${port}`);
    const listen = async (): Promise<boolean> => true;
    expect(await nextPortWithoutListener('127.0.0.1', 7000, probe, listen)).toBe(7002);
  });

  it("names macOS's AirPlay Receiver for port 7000, with where to turn it off", async () => {
    const problem = await detectForeignListener('127.0.0.1', 7000, async (host, port) => host === '::1' && port === 7000);
    expect(problem).toMatchObject({ type: 'port_in_use', port: 7000 });
    expect(problem?.message).toContain('[::1]:7000');
    expect(problem?.message).toContain('AirPlay Receiver');
    expect(problem?.message).toContain('System Settings → General → AirDrop & Handoff');
    expect(problem?.suggestedPort).toBeGreaterThan(7000);
    expect(await detectForeignListener('127.0.0.1', 0)).toBeNull();
  });
});

describe('DesktopCore with another program on its port', () => {
  it('does not start behind it: it offers the next free port, and starts there once chosen', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const port = await listenOn('::1');
    // First run: the port comes from the settings file (the seed's default would be 7000).
    mkdirSync(dir.file('userData'));
    writeFileSync(dir.file('userData/settings.json'), JSON.stringify({ port }));
    const input: ResolveInput = {
      argv: [],
      env: {},
      cwd: dir.path,
      defaultSettingsFile: dir.file('userData/settings.json'),
      defaultDbPath: dir.file('userData/metrics.db'),
    };
    const settings = new SettingsService({ input, file: dir.file('userData/settings.json') });
    desktop = new DesktopCore(resolveConfig(input), { settings, log: silentLogger, rendererDir: dir.file('no-renderer') });
    await desktop.start();
    expect(desktop.core).toBeNull();
    expect(desktop.problem).toMatchObject({ type: 'port_in_use', port });
    expect(desktop.problem?.message).toContain(`[::1]:${port}`);
    const suggested = desktop.problem?.suggestedPort as number;
    expect(suggested).toBeGreaterThan(port);
    await desktop.changePort(suggested);
    expect(desktop.core?.server.port).toBe(suggested);
  });
});
