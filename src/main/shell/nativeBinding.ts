import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * better-sqlite3 compiled for Electron's ABI lives apart from the one npm installed for Node, so
 * tests (Node) and the app (Electron) never rebuild each other's copy:
 * `node_modules/.electron-abi/<platform>-<arch>/` in development (written by
 * `npm run native:electron`), `resources/native/` in a packaged app (copied there by
 * electron-builder from the same folder).
 */
export interface NativeBindingLocation {
  /** The `.node` file to pass as better-sqlite3's `nativeBinding`. */
  path: string;
  /** Electron version it was built for; `null` when unknown (packaged apps). */
  builtFor: string | null;
}

export function electronAbiFolder(appPath: string): string {
  return join(appPath, 'node_modules', '.electron-abi', `${process.platform}-${process.arch}`);
}

/** Where the Electron-ABI binding is, and whether it matches this Electron; `null` when absent. */
export function findNativeBinding(options: { appPath: string; resourcesPath: string; isPackaged: boolean }): NativeBindingLocation | null {
  if (options.isPackaged) {
    const path = join(options.resourcesPath, 'native', 'better_sqlite3.node');
    return existsSync(path) ? { path, builtFor: null } : null;
  }
  const folder = electronAbiFolder(options.appPath);
  const path = join(folder, 'better_sqlite3.node');
  if (!existsSync(path)) return null;
  let builtFor: string | null = null;
  try {
    builtFor = (JSON.parse(readFileSync(join(folder, 'build.json'), 'utf8')) as { electron?: string }).electron ?? null;
  } catch {
    builtFor = null;
  }
  return { path, builtFor };
}
