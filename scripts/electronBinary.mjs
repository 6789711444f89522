import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Electron's package folder and version, as npm installed it. */
export function electronPackage() {
  const packageJson = require.resolve('electron/package.json');
  return { dir: dirname(packageJson), version: JSON.parse(readFileSync(packageJson, 'utf8')).version };
}

/** The executable's path inside an Electron dist folder, as electron's install.js names it. */
export function executableInDist(platform = process.platform) {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/**
 * The Electron executable when its binary is there, else `null`. `ELECTRON_OVERRIDE_DIST_PATH` is a
 * folder (electron's index.js joins the executable's name to it), never the executable itself.
 */
export function electronExecutable(env = process.env, platform = process.platform) {
  const { dir } = electronPackage();
  const pathFile = join(dir, 'path.txt');
  const named = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const executable = env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(env.ELECTRON_OVERRIDE_DIST_PATH, named ?? executableInDist(platform))
    : named
      ? join(dir, 'dist', named)
      : null;
  return executable !== null && existsSync(executable) ? executable : null;
}
