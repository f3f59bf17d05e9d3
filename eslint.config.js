import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['node_modules/', 'dist/', 'data/', 'coverage/'] }, ...tseslint.configs.recommended, {
  rules: {
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    '@typescript-eslint/no-explicit-any': 'off',
  },
});
