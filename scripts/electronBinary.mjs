import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Electron's package folder and version, as npm installed it. */
export function electronPackage() {
  const packageJson = require.resolve('electron/package.json');
  return { dir: dirname(packageJson), version: JSON.parse(readFileSync(packageJson, 'utf8')).version };
}

/** The Electron executable when its binary was downloaded, else `null`. */
export function electronExecutable() {
  const { dir } = electronPackage();
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const executable = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(executable) ? executable : null;
}
