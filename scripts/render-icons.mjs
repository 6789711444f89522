#!/usr/bin/env node
// Renders build/icon.svg to build/icon.png (1024×1024) with headless Chromium; electron-builder
// derives the macOS .icns, Windows .ico and Linux sizes from that PNG. Run after editing the SVG:
//   node scripts/render-icons.mjs [/usr/bin/chromium]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const svg = readFileSync(join(root, 'build', 'icon.svg'), 'utf8');
const profile = mkdtempSync(join(tmpdir(), 'icon-render-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.argv[2] ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  viewport: { width: 1024, height: 1024 },
});
const page = await context.newPage();
await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
await page.locator('svg').screenshot({ path: join(root, 'build', 'icon.png'), omitBackground: true });
await context.close();
rmSync(profile, { recursive: true, force: true });
console.log('wrote build/icon.png');
