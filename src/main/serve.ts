import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendHealth } from './backend/diffusionBackend';
import { ConfigError, USAGE, resolveConfig, type ResolveInput } from './config';
import { StartupError, startCore } from './core';
import type { Logger } from '../shared/logger';
import { dashboardBuilt } from './server/dashboardRoutes';
import { SettingsService, settingsFileOf } from './settingsService';

/** Headless entry: `npm run serve -- [options]`. The same core as the desktop app, without Electron. */
const log: Logger = {
  info: (message) => process.stderr.write(`diffusion-monitor: ${message}\n`),
  warn: (message) => process.stderr.write(`diffusion-monitor: warning: ${message}\n`),
  error: (message) => process.stderr.write(`diffusion-monitor: error: ${message}\n`),
};

/** The backend on one start-up line: where, which protocol, and whether it answers with models. */
export function backendLine(health: BackendHealth): string {
  if (!health.configured) return 'Backend: none configured; the diffusion routes answer model_unavailable (set --backend URL)';
  const where = `Backend: ${health.kind} at ${health.url ?? '?'}`;
  if (health.reachable === true && health.last_error === null) {
    const shown = health.models.slice(0, 5).join(', ');
    return `${where} — reachable, ${health.models.length} model${health.models.length === 1 ? '' : 's'}${shown ? `: ${shown}${health.models.length > 5 ? ', …' : ''}` : ''}`;
  }
  return `${where} — ${health.reachable === false ? 'not reachable' : 'answers with an error'}: ${health.last_error ?? 'no answer'}`;
}

function fail(message: string, code: number): never {
  process.stderr.write(`diffusion-monitor: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let config;
  // Settings saved from the browser dashboard go to ./diffusion-monitor.json unless --settings names a file.
  const input: ResolveInput = {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    defaultSettingsFile: resolve(process.cwd(), 'diffusion-monitor.json'),
  };
  try {
    config = resolveConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
  if (config.help) {
    process.stdout.write(USAGE);
    return;
  }
  let core;
  const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));
  const settings = new SettingsService({ input, file: settingsFileOf(input, config) });
  try {
    core = await startCore(config, { log, settings, dashboard: { rendererDir } });
  } catch (error) {
    if (error instanceof StartupError) fail(error.message, 1);
    throw error;
  }
  process.stdout.write(`Diffusion Monitor listening on ${core.server.url} (metrics database: ${config.dbPath})\n`);
  process.stdout.write(
    dashboardBuilt(rendererDir)
      ? `Dashboard: ${core.server.url}/\n`
      : 'Dashboard: not built yet; run `npm run build` once to serve it at / (the API works without it)\n',
  );
  const settingsFile = config.settingsFile ?? input.defaultSettingsFile ?? null;
  process.stdout.write(
    `Settings file: ${settingsFile === null ? 'none' : `${settingsFile}${existsSync(settingsFile) ? '' : ' (not created yet; the first save from Settings creates it)'}`}\n`,
  );
  process.stdout.write(`${backendLine(await core.backend().health())}\n`);
  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) {
      log.warn(`second ${signal}: exiting without waiting`);
      process.exit(130);
    }
    signalled = true;
    log.info(`${signal}: flushing metrics and closing`);
    core
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => fail(`shutdown failed: ${(error as Error).message}`, 1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  // `npm run serve` puts a shell between npm and us that does not pass SIGTERM on; when our parent
  // goes away we are orphaned, and shut down as cleanly as for a signal.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown('parent process exited');
  }, 500).unref();
}

main().catch((error: unknown) => fail(`unexpected failure: ${(error as Error).stack ?? String(error)}`, 1));
