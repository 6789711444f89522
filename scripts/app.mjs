#!/usr/bin/env node
// Starts the desktop app: `npm start` (preview of the build), `npm run dev`.
// Makes sure Electron's binary and the Electron-ABI better-sqlite3 exist first, fetching them
// when missing, and says plainly what to do when that is impossible (offline). Arguments after
// `npm start --` reach the app: `npm start -- --port 7001 --db /tmp/m.db`, `-- --no-sandbox`.
//
// Every child is Node itself running a tool's JavaScript entry, without a shell: Windows' cmd
// would split `C:\Program Files\nodejs\node.exe` and any project path with a space.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronExecutable, electronPackage } from './electronBinary.mjs';
import { appArguments, binEntry, electronViteCommand, sandboxCheck } from './launch.mjs';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [mode = 'preview', ...rest] = process.argv.slice(2);
const appArgs = appArguments(rest);
const node = process.execPath;

const OFFLINE_HINT = `
The desktop app cannot start without it. The same dashboard runs in your browser, with no
Electron at all:

    npm run build && npm run serve        then open http://127.0.0.1:7000/
`;

function run(command, args, env = {}) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: false, env: { ...process.env, ...env } }).status ?? 1;
}

function readOrNull(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** An AppArmor profile (as electron-builder's .deb installs one) granting `userns` to `executable`. */
function hasUserProfile(executable) {
  const folder = '/etc/apparmor.d';
  if (!existsSync(folder)) return false;
  for (const name of readdirSync(folder)) {
    const text = readOrNull(join(folder, name));
    if (text && text.includes(executable) && /\buserns\b/.test(text)) return true;
  }
  return false;
}

function linuxSandboxFacts(executable) {
  const helperPath = join(dirname(executable), 'chrome-sandbox');
  let helper = null;
  try {
    const stat = statSync(helperPath);
    helper = { path: helperPath, uid: stat.uid, mode: stat.mode };
  } catch {
    helper = null;
  }
  return {
    platform: process.platform,
    noSandbox: appArgs.includes('--no-sandbox'),
    restrictUserns: readOrNull('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    usernsClone: readOrNull('/proc/sys/kernel/unprivileged_userns_clone'),
    helper,
    electronExecutable: executable,
    userProfile: process.platform === 'linux' ? hasUserProfile(executable) : false,
    uid: process.getuid?.(),
  };
}

let executable = electronExecutable();
if (executable === null) {
  const { dir, version } = electronPackage();
  console.log(`Electron ${version}'s binary is not installed yet; fetching it (node node_modules/electron/install.js)…`);
  // Its error output is a network stack trace; keep only the line that names the cause.
  const install = spawnSync(node, [join(dir, 'install.js')], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  const status = install.status ?? 1;
  executable = electronExecutable();
  if (status !== 0 || executable === null) {
    const cause = (install.stderr ?? '')
      .split('\n')
      .find((line) => /error/i.test(line) && !/^\s+at /.test(line))
      ?.trim();
    console.error(`\nCould not download Electron ${version} (are you offline, or is its download blocked?)${cause ? `: ${cause}` : '.'}${OFFLINE_HINT}`);
    process.exit(1);
  }
}

if (process.platform === 'linux') {
  const sandbox = sandboxCheck(linuxSandboxFacts(executable));
  if (!sandbox.ok) {
    console.error(sandbox.message);
    process.exit(1);
  }
}

if (run(node, [join(root, 'scripts', 'electron-native.mjs')]) !== 0) process.exit(1);

const electronVite = {
  dir: dirname(require.resolve('electron-vite/package.json')),
  ...JSON.parse(readFileSync(require.resolve('electron-vite/package.json'), 'utf8')),
};
const launch = electronViteCommand({ execPath: node, cli: binEntry(electronVite, 'electron-vite'), mode, appArgs, root, electronExecutable: executable });
process.exit(spawnSync(launch.command, launch.args, { ...launch.options, env: { ...process.env, ...launch.options.env } }).status ?? 1);
