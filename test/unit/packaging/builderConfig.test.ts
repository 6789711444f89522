import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notarizationPlan } from '../../../scripts/macNotarization.mjs';

const root = resolve(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);
// electron-builder's own YAML reader, so the file is read as it reads it.
const yaml = require('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as {
  deb?: { depends?: string[] };
  extraResources?: Array<{ from: string; to: string }>;
  mac?: { entitlements?: string; hardenedRuntime?: boolean };
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;

describe('electron-builder.yml', () => {
  it("adds to electron-builder's default deb dependencies instead of replacing them", () => {
    // The list electron-builder uses when `deb.depends` is absent; a list given there replaces it.
    const FpmTarget = (require('app-builder-lib/out/targets/FpmTarget') as { default: { prototype: { getDefaultDepends(target: string): string[] } } }).default;
    const defaults = FpmTarget.prototype.getDefaultDepends.call(null, 'deb');
    expect(defaults).toContain('xdg-utils');
    expect(config.deb?.depends).toEqual(expect.arrayContaining(defaults));
  });

  it('ships the built-in model and the Electron-ABI binding as resources', () => {
    expect(config.extraResources).toEqual(
      expect.arrayContaining([
        { from: 'resources/model', to: 'model' },
        { from: 'node_modules/.electron-abi/${platform}-${arch}/better_sqlite3.node', to: 'native/better_sqlite3.node' },
      ]),
    );
  });

  it('signs for the hardened runtime with library validation off and no App Sandbox-only entitlements', () => {
    expect(config.mac?.hardenedRuntime).toBe(true);
    const plist = readFileSync(join(root, config.mac?.entitlements ?? 'missing'), 'utf8');
    expect(plist).toMatch(/<key>com\.apple\.security\.cs\.disable-library-validation<\/key>\s*<true\/>/);
    expect(plist).toMatch(/<key>com\.apple\.security\.cs\.allow-jit<\/key>/);
    expect(plist).not.toMatch(/<key>com\.apple\.security\.network\./);
  });
});

describe('package.json', () => {
  it('carries what electron-builder needs on Linux and the name menus show', () => {
    expect(pkg.productName).toBe('Diffusion Monitor');
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.repository).toBeTruthy();
    expect((pkg.author as { email?: string }).email).toMatch(/@/);
    expect(pkg.desktopName).toBe(`${String(pkg.name)}.desktop`);
  });
});

describe('notarizationPlan', () => {
  it('skips cleanly without credentials and says how to notarize', () => {
    const plan = notarizationPlan({});
    expect(plan).toMatchObject({ notarize: false, ok: true });
    expect(plan.message).toContain('skipped');
    expect(plan.message).toContain('APPLE_ID + APPLE_APP_SPECIFIC_PASSWORD + APPLE_TEAM_ID');
    expect(plan.message).toContain('APPLE_KEYCHAIN_PROFILE');
  });

  it('notarizes with any complete set', () => {
    expect(notarizationPlan({ APPLE_ID: 'a@b.c', APPLE_APP_SPECIFIC_PASSWORD: 'x', APPLE_TEAM_ID: 'T' })).toMatchObject({ notarize: true, ok: true });
    expect(notarizationPlan({ APPLE_API_KEY: '/k.p8', APPLE_API_KEY_ID: 'K', APPLE_API_ISSUER: 'I' })).toMatchObject({ notarize: true, ok: true });
    expect(notarizationPlan({ APPLE_KEYCHAIN_PROFILE: 'dm' })).toMatchObject({ notarize: true, ok: true });
  });

  it('names what is missing from a partial set', () => {
    const plan = notarizationPlan({ APPLE_ID: 'a@b.c' });
    expect(plan.ok).toBe(false);
    expect(plan.message).toContain('APPLE_APP_SPECIFIC_PASSWORD, APPLE_TEAM_ID missing');
  });
});
