import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import uiExtensionJestConfig from '@stripe/ui-extension-tools/jest.config.ui-extension.mjs';

/**
 * The shared preset, plus a ts-jest transform for the SDK's ESM `.js` files (it ships them without
 * `"type":"module"`), and the backend's contract files that the views import.
 * @type {import('jest').Config}
 */
export default {
  ...uiExtensionJestConfig,
  rootDir: dirname(fileURLToPath(import.meta.url)),
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  transform: {
    ...uiExtensionJestConfig.transform,
    '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@stripe/ui-extension-sdk|@remote-ui)/)'],
  testTimeout: 10_000,
};
