// Lint rules: typescript-eslint's recommended set, plus the project's own rules from docs/../style.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'coverage/', 'scratch/', 'bench/results/', 'bench/.cache/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only src/config.ts reads the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration through src/config.ts' }],
    },
  },
  {
    files: ['bin/**', 'src/cli/program.ts', 'test/**', 'bench/**', 'scripts/**', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // src/ must not import from adapters/: adapters plug in through interfaces that src/ defines.
    files: ['src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/adapters/**'], message: 'src/ must not import from adapters/' }] }] },
  },
);
