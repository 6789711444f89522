import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDllmServer } from '../fixtures/fakeDllmServer';
import { tempDir } from '../fixtures/tempDir';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

/** Runs `npm run serve`'s entry the way the script does, collecting its output. */
function serve(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/serve.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return { child, out: () => stdout, err: () => stderr };
}

async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('npm run serve', () => {
  it('prints its address, serves, and flushes every event on SIGTERM', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = dir.file('m.db');
    const run = serve(['--port', '0', '--db', db]);
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(run.out()));
    const url = /listening on (http:\/\/\S+)/.exec(run.out())?.[1] as string;
    const health = await fetch(`${url}/api/diffusion/health`);
    expect(health.status).toBe(200);
    // Requests to the diffusion routes without a backend are answered and recorded.
    const response = await fetch(`${url}/api/diffusion/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' });
    expect(response.status).toBe(503);
    run.child.kill('SIGTERM');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
    const file = new Database(db, { readonly: true });
    expect(file.prepare('SELECT count(*) FROM performance_events').pluck().get()).toBe(1);
    file.close();
  });

  it('prints the backend (URL, protocol, reachable, models) and the settings file on its start-up lines', async () => {
    const fake = await startFakeDllmServer({ models: ['fake-dream-7b', 'fake-llada-8b'] });
    const dir = tempDir();
    dirs.push(dir);
    const settingsFile = dir.file('later.json');
    const run = serve(['--port', '0', '--db', dir.file('m.db'), '--backend', fake.url, '--settings', settingsFile]);
    try {
      await waitFor(() => /^Backend: /m.test(run.out()));
      expect(run.out()).toContain(`Settings file: ${settingsFile} (not created yet; the first save from Settings creates it)`);
      expect(run.out()).toContain(`Backend: dllm at ${fake.url} — reachable, 2 models: fake-dream-7b, fake-llada-8b`);
    } finally {
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
      await fake.close();
    }
  });

  it('reports a protocol mismatch on its start-up line instead of staying silent', async () => {
    const fake = await startFakeDllmServer();
    const dir = tempDir();
    dirs.push(dir);
    const run = serve(['--port', '0', '--db', dir.file('m.db'), '--backend', fake.url, '--backend-kind', 'openai']);
    try {
      await waitFor(() => /^Backend: /m.test(run.out()));
      const line = /^Backend: .*$/m.exec(run.out())?.[0] ?? '';
      expect(line).toContain('answers with an error');
      expect(line).toContain('--backend-kind');
    } finally {
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
      await fake.close();
    }
  });

  it('exits 2 with one line for a flag value that starts with a dash, and names a URL without its scheme', async () => {
    for (const [args, expected] of [
      [['--timeout', '-3'], 'diffusion-monitor: --timeout needs a value; for one that starts with "-", write --timeout=VALUE (e.g. --timeout=-3) (see --help)'],
      [['--backend', 'localhost:8000'], 'diffusion-monitor: backend URL "localhost:8000" needs its scheme: use http://localhost:8000'],
    ] as const) {
      const run = serve([...args]);
      const [code] = await once(run.child, 'exit');
      expect(code).toBe(2);
      expect(run.err().trim()).toBe(expected);
    }
  });

  it('exits non-zero with one line when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const dir = tempDir();
    dirs.push(dir);
    const run = serve(['--port', String(port), '--db', dir.file('m.db')]);
    const [code] = await once(run.child, 'exit');
    blocker.close();
    expect(code).toBe(1);
    expect(run.err().trim().split('\n')).toEqual([`diffusion-monitor: port ${port} on 127.0.0.1 is already in use; choose another with --port`]);
  });

  it('exits non-zero with one line when the database cannot be opened', async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(dir.file('a-folder'));
    const run = serve(['--port', '0', '--db', dir.file('a-folder')]);
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(1);
    expect(run.err().trim().split('\n')).toHaveLength(1);
    expect(run.err()).toMatch(/^diffusion-monitor: cannot open metrics database .*a-folder/);
  });

  it('exits 2 with one line on a bad flag', async () => {
    const run = serve(['--port', 'seventy']);
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(2);
    expect(run.err().trim()).toBe('diffusion-monitor: port must be an integer from 0 to 65535; got "seventy"');
  });
});
