import { getRawHeader, extractFile } from '@electron/asar';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/tempDir';
import { MODEL_FILES, ROOT, runElectronBuilder, stageProject, stubElectronDist, type StandIns } from './packagedApp';

// `electron-builder --dir` for linux-x64 (the platform CI runs; electron-builder lays out a Linux
// app from any host) with a stand-in Electron, then a look at what landed where. Needs
// `npm run build` first (`npm run test:package` does both).
const TARGET = { platform: 'linux', arch: 'x64' };

interface AsarEntry {
  files?: Record<string, AsarEntry>;
  size?: number;
  unpacked?: boolean;
  link?: string;
}

/** Every file in app.asar's header, with whether its bytes live in app.asar.unpacked. */
function asarFiles(archive: string): Array<{ path: string; unpacked: boolean }> {
  const out: Array<{ path: string; unpacked: boolean }> = [];
  const walk = (entry: AsarEntry, prefix: string): void => {
    for (const [name, child] of Object.entries(entry.files ?? {})) {
      const path = prefix ? `${prefix}/${name}` : name;
      if (child.files) walk(child, path);
      else out.push({ path, unpacked: child.unpacked === true });
    }
  };
  walk(getRawHeader(archive).header as AsarEntry, '');
  return out;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

const work = tempDir('diffusion-monitor-package-');
let resources = '';
let standIns: StandIns;
let build: { code: number | null; output: string };

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'out', 'main', 'index.js'))) throw new Error('out/ is missing: run `npm run build` first (npm run test:package does)');
  const project = join(work.path, 'project');
  standIns = stageProject(project, TARGET);
  if (standIns.electronAbiBinding) {
    console.warn(
      'packaging test: node_modules/.electron-abi/linux-x64/better_sqlite3.node is not built here (it needs Electron headers from the network); a labelled stand-in file checks where it lands. The real one comes from `npm run native:electron`.',
    );
  }
  if (standIns.modelFiles.length > 0)
    console.warn(`packaging test: resources/model/{${standIns.modelFiles.join(',')}} not in the repository yet; placeholders check where they land.`);
  const electronDist = stubElectronDist(join(work.path, 'electron-dist'));
  build = await runElectronBuilder(project, ['--dir', `--${TARGET.platform}`, `--${TARGET.arch}`, `-c.electronDist=${electronDist}`]);
  resources = join(project, 'dist', 'linux-unpacked', 'resources');
}, 300_000);

afterAll(() => work.cleanup());

describe('electron-builder --dir (linux-x64, stand-in Electron)', () => {
  it('lays the app out', () => {
    expect(build.code, build.output).toBe(0);
    expect(existsSync(join(resources, 'app.asar'))).toBe(true);
  });

  it('keeps every .node file out of app.asar (a .node cannot be loaded from inside it)', () => {
    const packed = asarFiles(join(resources, 'app.asar')).filter((file) => file.path.endsWith('.node') && !file.unpacked);
    expect(packed).toEqual([]);
  });

  it("ships no Node-ABI better-sqlite3 (npm's build for Node would crash Electron)", () => {
    const all = [...asarFiles(join(resources, 'app.asar')).map((file) => file.path), ...filesUnder(join(resources, 'app.asar.unpacked'))];
    expect(
      all.filter((path) => path.includes('better-sqlite3/build/') || path.includes('better-sqlite3/src/') || path.includes('better-sqlite3/deps/')),
    ).toEqual([]);
    expect(all.filter((path) => path.endsWith('better_sqlite3.node'))).toEqual([]);
    // The JavaScript half stays, for the shell's `nativeBinding`.
    expect(all).toContain('node_modules/better-sqlite3/lib/index.js');
  });

  it('puts the Electron-ABI binding under resources/native, byte for byte', () => {
    const packaged = join(resources, 'native', 'better_sqlite3.node');
    expect(existsSync(packaged)).toBe(true);
    const source = join(work.path, 'project', 'node_modules', '.electron-abi', 'linux-x64', 'better_sqlite3.node');
    expect(readFileSync(packaged).equals(readFileSync(source))).toBe(true);
  });

  it('puts the built-in model under resources/model', () => {
    for (const name of MODEL_FILES) {
      const packaged = join(resources, 'model', name);
      expect(existsSync(packaged), name).toBe(true);
      expect(readFileSync(packaged).equals(readFileSync(join(work.path, 'project', 'resources', 'model', name)))).toBe(true);
    }
  });

  it("unpacks the target platform's onnxruntime, and no other platform's", () => {
    const unpacked = filesUnder(join(resources, 'app.asar.unpacked'));
    const ort = 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
    expect(unpacked).toContain(`${ort}/onnxruntime_binding.node`);
    expect(unpacked).toContain(`${ort}/libonnxruntime.so.1`);
    expect(statSync(join(resources, 'app.asar.unpacked', ort, 'onnxruntime_binding.node')).size).toBeGreaterThan(100_000);
    const all = [...asarFiles(join(resources, 'app.asar')).map((file) => file.path), ...unpacked];
    const binaries = all.filter((path) => path.startsWith('node_modules/onnxruntime-node/bin/'));
    expect(binaries.filter((path) => !path.startsWith(`${ort}/`))).toEqual([]);
    // What onnxruntime-node requires at run time came along.
    expect(all).toContain('node_modules/onnxruntime-common/dist/cjs/index.js');
  });

  it('bundles the main process: only native modules and what they require are in node_modules', () => {
    const packages = new Set(
      asarFiles(join(resources, 'app.asar'))
        .map((file) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file.path)?.[1])
        .filter((name): name is string => name !== undefined),
    );
    expect([...packages].sort()).toEqual(['better-sqlite3', 'bindings', 'file-uri-to-path', 'onnxruntime-common', 'onnxruntime-node']);
  });

  it('writes a package.json with productName, so the macOS menu reads "Quit Diffusion Monitor"', () => {
    const packaged = JSON.parse(extractFile(join(resources, 'app.asar'), 'package.json').toString('utf8')) as Record<string, unknown>;
    expect(packaged.productName).toBe('Diffusion Monitor');
    expect(packaged.main).toBe('./out/main/index.js');
    expect(asarFiles(join(resources, 'app.asar')).map((file) => file.path)).toContain('out/main/index.js');
  });
});
