// Jest config for test/api/runners/jest.example.mjs (run by test/api/runners.test.ts). The package is
// ESM-only, so Jest runs in ESM mode (node --experimental-vm-modules) on a plain .mjs file: no transform.
// `directline-vcr` resolves through the package's own exports, as in a project that installed it: dist/.
export default {
  rootDir: '../../..',
  roots: ['<rootDir>/test/api/runners'], // keeps Jest from crawling node_modules
  testMatch: ['<rootDir>/test/api/runners/jest.example.mjs'],
  testEnvironment: 'node',
  transform: {},
};
