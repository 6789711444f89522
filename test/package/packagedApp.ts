import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** What a packaging run used for the parts this machine cannot build; each is said in the test output. */
export interface StandIns {
  /** The Electron-ABI better-sqlite3 (`npm run native:electron` needs Electron's headers from the network). */
  electronAbiBinding: boolean;
  /** resources/model files that were not in the repository yet. */
  modelFiles: string[];
}

export const STAND_IN_BINDING =
  'STAND-IN for layout checks only: not a loadable better-sqlite3 binding. The real one is built by `npm run native:electron` on a networked machine.\n';
export const PLACEHOLDER_MODEL = 'PLACEHOLDER for layout checks only: the real built-in model comes from training/.\n';

/** The built-in model's files, as the backend loads them from resources/model. */
export const MODEL_FILES = ['builtin.onnx', 'model.json'];

/**
 * Copies node_modules as hard links (same disk: instant, no extra space); nothing is ever written
 * through them. Symbolic links (node_modules/.bin) are recreated.
 */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/**
 * A copy of the project as `npm run dist` sees it after `npm run build`: package.json, the
 * packaging config, build/, scripts/, out/, resources/ and node_modules. Missing parts that only a
 * networked machine or the training run can make get clearly labelled stand-ins, in the copy only.
 */
export function stageProject(dir: string, target: { platform: string; arch: string }): StandIns {
  mkdirSync(dir, { recursive: true });
  for (const file of ['package.json', 'electron-builder.yml']) copyFileSync(join(ROOT, file), join(dir, file));
  for (const folder of ['build', 'scripts', 'out']) cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
  if (existsSync(join(ROOT, 'resources'))) cpSync(join(ROOT, 'resources'), join(dir, 'resources'), { recursive: true });
  linkTree(join(ROOT, 'node_modules'), join(dir, 'node_modules'));

  const binding = join(dir, 'node_modules', '.electron-abi', `${target.platform}-${target.arch}`, 'better_sqlite3.node');
  const electronAbiBinding = !existsSync(binding);
  if (electronAbiBinding) {
    mkdirSync(join(binding, '..'), { recursive: true });
    writeFileSync(binding, STAND_IN_BINDING);
  }
  const modelDir = join(dir, 'resources', 'model');
  mkdirSync(modelDir, { recursive: true });
  const modelFiles = MODEL_FILES.filter((name) => !existsSync(join(modelDir, name)));
  for (const name of modelFiles) writeFileSync(join(modelDir, name), PLACEHOLDER_MODEL);
  return { electronAbiBinding, modelFiles };
}

/**
 * A stand-in Electron distribution: electron-builder copies the folder and renames the executable,
 * which is all `--dir` needs of it (`electronDist`, electron.build/configuration).
 */
export function stubElectronDist(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'electron'), '#!/bin/sh\necho "stand-in Electron for packaging tests"\nexit 1\n', { mode: 0o755 });
  writeFileSync(join(dir, 'LICENSE'), 'stand-in\n');
  return dir;
}

/** Runs electron-builder's CLI with Node, as `npm run dist` would, and collects its output. */
export function runElectronBuilder(cwd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const cli = join(ROOT, 'node_modules', 'electron-builder', 'cli.js');
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd,
      env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false', ELECTRON_BUILDER_CACHE: join(cwd, '.cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => done({ code, output }));
  });
}
