/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  // @hubspot/ui-extensions (and its @remote-ui / tinyspy dependencies) ship ESM `.js`: compile them with ts-jest too.
  transform: {
    '^.+\\.[tj]sx?$': [
      'ts-jest',
      {
        // Transpile only (types are checked by `npm run typecheck`).
        tsconfig: { isolatedModules: true, allowJs: true, jsx: 'react-jsx', module: 'commonjs', esModuleInterop: true },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@hubspot/ui-extensions|@remote-ui|tinyspy)/)'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'json'],
  testTimeout: 10_000,
};
