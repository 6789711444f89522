import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import type { Plugin } from 'vite';
import solid from 'vite-plugin-solid';
import { RENDERER_CSP } from './src/shared/csp';

/**
 * The dev server needs what the production build forbids: Vite injects styles and talks to its
 * HMR websocket. Only `electron-vite dev` gets this relaxed policy; builds keep index.html's.
 */
function devServerCsp(): Plugin {
  return {
    name: 'diffusion-monitor:dev-csp',
    apply: 'serve',
    transformIndexHtml: (html: string) =>
      html.replace(
        RENDERER_CSP,
        RENDERER_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").replace("connect-src 'self'", "connect-src 'self' ws: http://localhost:*"),
      ),
  };
}

/**
 * Packages the main process loads from node_modules at run time: only native modules, whose
 * `.node` files cannot be bundled. Everything else is bundled, so nothing inside app.asar loads an
 * ES module through `require` (`@fastify/static` → `content-disposition@3`, `light-my-request` →
 * `cookie@2`; electron/electron#46614). electron-builder.yml packs exactly these into node_modules.
 */
export const MAIN_EXTERNALS = ['better-sqlite3', 'onnxruntime-node'];

/** The main process's entry points, one output file each (add a worker thread here). */
export const MAIN_INPUTS: Record<string, string> = {
  index: resolve(__dirname, 'src/main/index.ts'),
};

export default defineConfig({
  main: {
    build: {
      externalizeDeps: false,
      // undici probes for `node:sqlite` (its optional cache store) with a lazy `require`; hoisted
      // to a static import it would fail to load wherever that module is missing or flagged.
      commonjsOptions: { ignore: ['node:sqlite'] },
      rollupOptions: {
        input: MAIN_INPUTS,
        external: [...MAIN_EXTERNALS, ...MAIN_EXTERNALS.map((name) => new RegExp(`^${name}/`))],
      },
    },
  },
  preload: {
    // A sandboxed preload can require nothing but `electron`: everything else is bundled in.
    plugins: [externalizeDepsPlugin({ include: [], exclude: ['zod', 'eventsource-parser'] })],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    base: './',
    plugins: [solid(), devServerCsp()],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/renderer/index.html') },
        // zod's sources carry comments Rollup cannot place; harmless, and not ours to fix.
        onwarn: (warning, warn) => {
          if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
          warn(warning);
        },
      },
      // Charts and fonts are local; the bundle is loaded from disk or loopback, never a network.
      chunkSizeWarningLimit: 1024,
      // Never inline assets as data: URLs; the CSP allows fonts from 'self' only.
      assetsInlineLimit: 0,
    },
  },
});
