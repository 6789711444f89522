#!/usr/bin/env node
// Builds better-sqlite3 for Electron's ABI into node_modules/.electron-abi/<platform>-<arch>/,
// beside (never over) the copy npm built for Node. Tests keep using Node's copy; the desktop app
// passes this one to better-sqlite3 as `nativeBinding`; electron-builder packs it as
// resources/native/. So neither ever needs rebuilding for the other.
//
//   npm run native:electron [-- --force]
//
// Tries a prebuilt binary first (prebuild-install), then compiles against Electron's headers
// (node-gyp). Both download from the network; the error says what to do when that fails.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronPackage } from './electronBinary.mjs';
import { binEntry } from './launch.mjs';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');

const electron = electronPackage();
const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
const sqliteVersion = JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')).version;
const target = join(root, 'node_modules', '.electron-abi', `${process.platform}-${process.arch}`);
const manifest = join(target, 'build.json');
const wanted = { electron: electron.version, betterSqlite3: sqliteVersion, abi: readFileSync(join(electron.dir, 'abi_version'), 'utf8').trim() };

if (!force && existsSync(join(target, 'better_sqlite3.node')) && existsSync(manifest)) {
  const built = JSON.parse(readFileSync(manifest, 'utf8'));
  if (built.electron === wanted.electron && built.betterSqlite3 === wanted.betterSqlite3) {
    console.log(`better-sqlite3 ${sqliteVersion} for Electron ${electron.version} is already in ${target}`);
    process.exit(0);
  }
}

// Work on a copy so Node's build in node_modules/better-sqlite3/build stays untouched.
const work = mkdtempSync(join(tmpdir(), 'better-sqlite3-electron-'));
cpSync(sqliteDir, work, { recursive: true, filter: (path) => !path.startsWith(join(sqliteDir, 'build')) });
// Node runs each tool's JavaScript entry directly, without a shell (paths with spaces, Windows).
const tool = (name) => {
  const packageJson = require.resolve(`${name}/package.json`);
  return binEntry({ dir: dirname(packageJson), ...JSON.parse(readFileSync(packageJson, 'utf8')) }, name);
};
const run = (name, args) => spawnSync(process.execPath, [tool(name), ...args], { cwd: work, stdio: 'inherit', shell: false }).status === 0;

console.log(`building better-sqlite3 ${sqliteVersion} for Electron ${electron.version} (ABI ${wanted.abi}, ${process.platform}-${process.arch})`);
const ok =
  run('prebuild-install', ['--runtime', 'electron', '--target', electron.version, '--arch', process.arch, '--verbose']) ||
  run('node-gyp', [
    'rebuild',
    '--release',
    `--target=${electron.version}`,
    `--arch=${process.arch}`,
    '--dist-url=https://electronjs.org/headers',
    '--runtime=electron',
  ]);
const built = join(work, 'build', 'Release', 'better_sqlite3.node');
if (!ok || !existsSync(built)) {
  rmSync(work, { recursive: true, force: true });
  console.error(`
Could not build better-sqlite3 for Electron ${electron.version}: both the prebuilt download and
the compile against Electron's headers need the network (and a C++ toolchain for the compile).
Connect to the internet and run "npm run native:electron" again. Until then the same dashboard
runs in your browser, with no Electron at all:

    npm run serve        then open http://127.0.0.1:7000/
`);
  process.exit(1);
}
mkdirSync(target, { recursive: true });
cpSync(built, join(target, 'better_sqlite3.node'));
writeFileSync(manifest, `${JSON.stringify({ ...wanted, builtAt: new Date().toISOString() }, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
console.log(`wrote ${join(target, 'better_sqlite3.node')}`);
