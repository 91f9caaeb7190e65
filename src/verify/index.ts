// `verify` as a library (see verify.ts).
export { verifyCassette, DEFAULT_SETTLE_MS, VerifyError, type VerifyOptions, type VerifyResult } from './verify.js';
