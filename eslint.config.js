import js from '@eslint/js';
import globals from 'globals';
import solid from 'eslint-plugin-solid/configs/typescript';
import tseslint from 'typescript-eslint';

const noElectron = {
  paths: [{ name: 'electron', message: 'The core and src/shared must run under plain Node: only the Electron shell imports electron.' }],
  patterns: [{ group: ['electron/*'], message: 'Only the Electron shell imports electron.' }],
};

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
