import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/main/config';
import { ownArguments } from '../../../src/main/shell/appArguments';
import { electronExecutable, executableInDist } from '../../../scripts/electronBinary.mjs';
import { appArguments, binEntry, electronViteCommand, sandboxCheck, type SandboxFacts } from '../../../scripts/launch.mjs';
import { tempDir } from '../../fixtures/tempDir';

const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, '../../..');
const electronViteCli = (): string => {
  const packageJson = require.resolve('electron-vite/package.json');
  return binEntry({ dir: dirname(packageJson), ...(JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> }) }, 'electron-vite');
};

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

describe('electronViteCommand', () => {
  it('runs Node itself on the CLI entry, without a shell, with paths that hold spaces as single arguments', () => {
    const command = electronViteCommand({
      execPath: 'C:\\Program Files\\nodejs\\node.exe',
      cli: 'C:\\Users\\Ada Lovelace\\diffusion monitor\\node_modules\\electron-vite\\bin\\electron-vite.js',
      mode: 'preview',
      appArgs: [],
      root: 'C:\\Users\\Ada Lovelace\\diffusion monitor',
      electronExecutable: null,
    });
    expect(command.command).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(command.args).toEqual(['C:\\Users\\Ada Lovelace\\diffusion monitor\\node_modules\\electron-vite\\bin\\electron-vite.js', 'preview']);
    expect(command.options.shell).toBe(false);
    expect(command.options.cwd).toBe('C:\\Users\\Ada Lovelace\\diffusion monitor');
  });

  it("puts the app's arguments after `--`, which is all electron-vite hands to Electron", () => {
    const command = electronViteCommand({
      execPath: '/usr/bin/node',
      cli: '/p/cli.js',
      mode: 'dev',
      appArgs: ['--port', '7001', '--no-sandbox'],
      root: '/p',
      electronExecutable: '/opt/electron dist/electron',
    });
    expect(command.args).toEqual(['/p/cli.js', 'dev', '--', '--port', '7001', '--no-sandbox']);
    expect(command.options.env).toEqual({ ELECTRON_EXEC_PATH: '/opt/electron dist/electron' });
  });

  it('refuses an unknown mode', () => {
    expect(() => electronViteCommand({ execPath: 'node', cli: 'cli.js', mode: 'build', appArgs: [], root: '.', electronExecutable: null })).toThrow(
      /unknown mode/,
    );
  });

  it('drops the `--` that npm leaves in front of the forwarded arguments', () => {
    expect(appArguments(['--', '--port', '7001'])).toEqual(['--port', '7001']);
    expect(appArguments(['--port', '7001'])).toEqual(['--port', '7001']);
  });

  it("gets the app's flags through the real electron-vite CLI to Electron, from folders with spaces", async () => {
    const dir = tempDir('diffusion monitor launch ');
    dirs.push(dir);
    // A stand-in Electron that records the command line it was started with.
    const bin = join(dir.path, 'electron dist');
    mkdirSync(bin);
    const fakeElectron = join(bin, 'electron');
    const recorded = dir.file('argv.json');
    writeFileSync(fakeElectron, `#!${process.execPath}\nrequire('node:fs').writeFileSync(process.env.RECORD_ARGV, JSON.stringify(process.argv.slice(2)));\n`);
    chmodSync(fakeElectron, 0o755);
    const db = join(dir.path, 'my data', 'metrics.db');
    const appArgs = ['--port', '7001', '--db', db, '--backend', 'http://127.0.0.1:8000', '--no-sandbox'];
    const command = electronViteCommand({
      execPath: process.execPath,
      cli: electronViteCli(),
      mode: 'preview',
      appArgs,
      viteFlags: ['--skipBuild'],
      root,
      electronExecutable: fakeElectron,
    });
    const status = await new Promise<number | null>((done) => {
      const child = spawn(command.command, command.args, {
        ...command.options,
        stdio: 'ignore',
        env: { ...process.env, ...command.options.env, ELECTRON_ENTRY: 'out/main/index.js', RECORD_ARGV: recorded },
      });
      child.on('close', (code) => done(code));
    });
    expect(status).toBe(0);
    // Electron's process.argv is [electron, entry, ...]; the shell reads from index 2 in development.
    const argv = JSON.parse(readFileSync(recorded, 'utf8')) as string[];
    expect(argv).toEqual(['out/main/index.js', ...appArgs]);
    const config = resolveConfig({ argv: ownArguments(argv.slice(1)), env: {}, cwd: dir.path });
    expect(config.port).toBe(7001);
    expect(config.dbPath).toBe(db);
    expect(config.backendUrl).toBe('http://127.0.0.1:8000');
  });
});

describe('electronExecutable', () => {
  it('treats ELECTRON_OVERRIDE_DIST_PATH as a folder holding the executable', () => {
    const dir = tempDir();
    dirs.push(dir);
    const executable = join(dir.path, executableInDist());
    mkdirSync(dirname(executable), { recursive: true });
    writeFileSync(executable, '');
    expect(electronExecutable({ ELECTRON_OVERRIDE_DIST_PATH: dir.path })).toBe(executable);
    // The folder alone is not an executable.
    expect(electronExecutable({ ELECTRON_OVERRIDE_DIST_PATH: join(dir.path, 'empty') })).toBeNull();
  });

  it("names the executable as electron's install.js does", () => {
    expect(executableInDist('linux')).toBe('electron');
    expect(executableInDist('win32')).toBe('electron.exe');
    expect(executableInDist('darwin')).toBe('Electron.app/Contents/MacOS/Electron');
  });
});

describe('sandboxCheck', () => {
  const ubuntu2404: SandboxFacts = {
    platform: 'linux',
    noSandbox: false,
    restrictUserns: '1\n',
    usernsClone: null,
    helper: { path: '/home/ada/dm/node_modules/electron/dist/chrome-sandbox', uid: 1000, mode: 0o100755 },
    electronExecutable: '/home/ada/dm/node_modules/electron/dist/electron',
    userProfile: false,
  };

  it('stops on Ubuntu 24.04 with npm’s helper, printing the exact commands', () => {
    const result = sandboxCheck(ubuntu2404);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('kernel.apparmor_restrict_unprivileged_userns = 1');
    expect(result.message).toContain('owned by uid 1000 with mode 755');
    expect(result.message).toContain(
      "sudo chown root:root '/home/ada/dm/node_modules/electron/dist/chrome-sandbox' && sudo chmod 4755 '/home/ada/dm/node_modules/electron/dist/chrome-sandbox'",
    );
    expect(result.message).toContain('profile electron-dev "%s" flags=(unconfined)');
    expect(result.message).toContain("'/home/ada/dm/node_modules/electron/dist/electron'");
    expect(result.message).toContain('npm start -- --no-sandbox');
  });

  it('passes once the helper is root-owned 4755', () => {
    expect(sandboxCheck({ ...ubuntu2404, helper: { ...ubuntu2404.helper!, uid: 0, mode: 0o104755 } })).toEqual({ ok: true });
    // Root-owned but not setuid is still broken.
    expect(sandboxCheck({ ...ubuntu2404, helper: { ...ubuntu2404.helper!, uid: 0, mode: 0o100755 } }).ok).toBe(false);
  });

  it('passes with an AppArmor profile granting userns, with --no-sandbox, off Linux, and where namespaces are free', () => {
    expect(sandboxCheck({ ...ubuntu2404, userProfile: true })).toEqual({ ok: true });
    expect(sandboxCheck({ ...ubuntu2404, noSandbox: true })).toEqual({ ok: true });
    expect(sandboxCheck({ ...ubuntu2404, platform: 'darwin' })).toEqual({ ok: true });
    expect(sandboxCheck({ ...ubuntu2404, restrictUserns: '0\n' })).toEqual({ ok: true });
    // Kernels without the AppArmor knob (Debian, Fedora, older Ubuntu).
    expect(sandboxCheck({ ...ubuntu2404, restrictUserns: null })).toEqual({ ok: true });
  });

  it('stops as root, where Chromium refuses its sandbox whatever the helper', () => {
    const result = sandboxCheck({ ...ubuntu2404, uid: 0, restrictUserns: null, helper: { ...ubuntu2404.helper!, uid: 0, mode: 0o104755 } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('npm start -- --no-sandbox');
    expect(sandboxCheck({ ...ubuntu2404, uid: 0, noSandbox: true })).toEqual({ ok: true });
  });

  it('stops where unprivileged user namespaces are off altogether and the helper is missing', () => {
    const result = sandboxCheck({ ...ubuntu2404, restrictUserns: null, usernsClone: '0', helper: null, userProfile: true });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toContain('kernel.unprivileged_userns_clone = 0');
      expect(result.message).toContain('/home/ada/dm/node_modules/electron/dist/chrome-sandbox is missing');
    }
  });
});
