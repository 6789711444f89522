#!/usr/bin/env node
// Starts the desktop app: `npm start` (preview of the build), `npm run dev`.
// Makes sure Electron's binary and the Electron-ABI better-sqlite3 exist first, fetching them
// when missing, and says plainly what to do when that is impossible (offline).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronExecutable, electronPackage } from './electronBinary.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [mode = 'preview', ...rest] = process.argv.slice(2);
const node = process.execPath;

const OFFLINE_HINT = `
The desktop app cannot start without it. The same dashboard runs in your browser, with no
Electron at all:

    npm run build && npm run serve        then open http://127.0.0.1:7000/
`;

function run(command, args) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' }).status ?? 1;
}

if (electronExecutable() === null) {
  const { dir, version } = electronPackage();
  console.log(`Electron ${version}'s binary is not installed yet; fetching it (node node_modules/electron/install.js)…`);
  const status = run(node, [join(dir, 'install.js')]);
  if (status !== 0 || electronExecutable() === null) {
    console.error(`\nCould not download Electron ${version} (are you offline, or is its download blocked?).${OFFLINE_HINT}`);
    process.exit(1);
  }
}

if (run(node, [join(root, 'scripts', 'electron-native.mjs')]) !== 0) process.exit(1);

const bin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'electron-vite.cmd' : 'electron-vite');
process.exit(run(bin, [mode, ...rest]));
