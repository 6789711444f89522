import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { RENDERER_CSP_HEADER } from '../../src/shared/csp';
import { tempDir } from '../fixtures/tempDir';
import { ROOT } from './packagedApp';

// The built out/main/index.js, started by plain Node with only `electron` swapped for a stand-in
// (test/fixtures/electronStandIn). Node runs with require(esm) off, as Electron inside app.asar
// effectively must (electron/electron#46614): a bundled dependency that would `require` an ES
// module fails here with ERR_REQUIRE_ESM instead of on a user's machine.
const MAIN = join(ROOT, 'out', 'main', 'index.js');
const REGISTER = join(ROOT, 'test', 'fixtures', 'electronStandIn', 'register.mjs');

interface Report {
  event: string;
  [key: string]: unknown;
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  next(event: string): Promise<Report>;
  output(): string;
}

function startMain(args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--no-experimental-require-module', '--import', REGISTER, MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const reports: Report[] = [];
  const waiting: Array<{ event: string; resolve: (report: Report) => void }> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    output += `${line}\n`;
    if (!line.startsWith('fake-electron ')) return;
    const report = JSON.parse(line.slice('fake-electron '.length)) as Report;
    const index = waiting.findIndex((wait) => wait.event === report.event || report.event === 'error');
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(report);
    else reports.push(report);
  });
  return {
    child,
    output: () => output,
    next: (event) =>
      new Promise((resolve, reject) => {
        const index = reports.findIndex((report) => report.event === event || report.event === 'error');
        if (index >= 0) return resolve(reports.splice(index, 1)[0] as Report);
        waiting.push({ event, resolve });
        child.once('exit', (code) => reject(new Error(`main exited (${String(code)}) before "${event}":\n${output}`)));
      }),
  };
}

const dirs: Array<{ cleanup(): void }> = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) dir.cleanup();
});

describe('out/main/index.js under plain Node', () => {
  it('loads, starts the core, answers IPC and HTTP, serves the renderer, and quits cleanly on SIGTERM', async () => {
    expect(existsSync(MAIN), 'run `npm run build` first (npm run test:package does)').toBe(true);
    const dir = tempDir();
    dirs.push(dir);
    const main = startMain(['--port', '0', '--db', dir.file('metrics.db')], { FAKE_ELECTRON_USER_DATA: dir.path });
    children.push(main.child);

    const window = await main.next('window');
    expect(window, main.output()).toMatchObject({ event: 'window', url: 'app://diffusion-monitor/index.html', sandbox: true });

    const renderer = await main.next('renderer');
    expect(renderer.event, main.output()).toBe('renderer');
    const info = renderer.appInfo as { ok: boolean; value: { transport: string; serverUrl: string } };
    expect(info.ok, main.output()).toBe(true);
    expect(info.value.transport).toBe('ipc');
    expect(renderer.page).toMatchObject({ status: 200 });
    expect((renderer.page as { csp: string | null }).csp).toBe(RENDERER_CSP_HEADER);

    // The bundled Fastify server answers.
    const metrics = await fetch(`${info.value.serverUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE');

    const exited = new Promise<number | null>((resolve) => main.child.once('exit', resolve));
    main.child.kill('SIGTERM');
    expect(await main.next('quit')).toEqual({ event: 'quit' });
    expect(await exited).toBe(0);
    expect(main.output()).not.toMatch(/ERR_REQUIRE_ESM|ExperimentalWarning/);
  });
});
