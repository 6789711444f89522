import js from '@eslint/js';
import globals from 'globals';
import solid from 'eslint-plugin-solid/configs/typescript';
import tseslint from 'typescript-eslint';

const noElectron = {
  paths: [{ name: 'electron', message: 'The core and src/shared must run under plain Node: only the Electron shell imports electron.' }],
  patterns: [{ group: ['electron/*'], message: 'Only the Electron shell imports electron.' }],
};

/**
 * Layers inside src/main, lowest first. A module imports only from its own layer or below; the
 * top-level modules of src/main (config, core, runtime, settings, the monitor service) are the
 * core layer, and the entry points (index.ts, serve.ts) sit with the shell at the top.
 */
const LAYERS = ['store', 'metrics', 'export', 'backend', 'server', 'core', 'shell'];
const LAYER_ORDER = 'store → metrics → export → backend → server → core → shell/serve';
const FOLDER_LAYERS = LAYERS.filter((layer) => layer !== 'core');
const ENTRY_POINTS = ['index', 'serve'];

/** Import patterns that reach above `layer` from a file `depth` folders below src/main. */
function upwardImports(layer, depth) {
  const above = LAYERS.slice(LAYERS.indexOf(layer) + 1);
  const up = depth === 0 ? '\\./' : '(\\.\\./){' + depth + '}';
  const folders = FOLDER_LAYERS.filter((folder) => above.includes(folder));
  const message = `src/main/${layer} may import only from its own layer or below (${LAYER_ORDER}).`;
  const patterns = [];
  if (folders.length > 0) patterns.push({ regex: `^${up}(${folders.join('|')})(/|$)`, message });
  // A module directly in src/main: the core layer, or an entry point.
  if (above.includes('core')) patterns.push({ regex: `^${up}[^./][^/]*$`, message });
  else if (layer === 'core') patterns.push({ regex: `^${up}(${ENTRY_POINTS.join('|')})$`, message });
  return patterns;
}

const layerBlocks = [
  ...FOLDER_LAYERS.filter((layer) => layer !== 'shell').flatMap((layer) =>
    [1, 2, 3].map((depth) => ({
      files: [`src/main/${layer}/${'*/'.repeat(depth - 1)}*.ts`],
      rules: { 'no-restricted-imports': ['error', { ...noElectron, patterns: [...noElectron.patterns, ...upwardImports(layer, depth)] }] },
    })),
  ),
  {
    files: ['src/main/*.ts'],
    ignores: ENTRY_POINTS.map((name) => `src/main/${name}.ts`),
    rules: { 'no-restricted-imports': ['error', { ...noElectron, patterns: [...noElectron.patterns, ...upwardImports('core', 0)] }] },
  },
];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  // Layering: the core and the shared contract never import electron.
  {
    files: ['src/main/**/*.ts', 'src/shared/**/*.ts'],
    ignores: ['src/main/index.ts', 'src/main/shell/**'],
    rules: { 'no-restricted-imports': ['error', noElectron] },
  },
  // Layering inside src/main: imports point down only (each block keeps electron out as well).
  ...layerBlocks,
  // src/shared is pure: no node built-ins, no DOM-only code.
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { ...noElectron, patterns: [...noElectron.patterns, { group: ['node:*'], message: 'src/shared is pure: no node built-ins.' }] },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    ...solid,
    languageOptions: { ...solid.languageOptions, globals: { ...globals.browser } },
    rules: {
      ...solid.rules,
      'no-restricted-imports': [
        'error',
        {
          ...noElectron,
          patterns: [...noElectron.patterns, { group: ['node:*', '**/main/**'], message: 'The renderer talks to main only through the API object.' }],
        },
      ],
    },
  },
);
