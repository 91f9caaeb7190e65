// The test emulator in a process of its own, for the soak: the load clients then cannot slow the upstream down
// (an upstream whose event loop lags closes keep-alive sockets under the recorder's requests).
// Usage: node --import tsx test/reliability/emulator-process.ts '<EmulatorOptions as JSON>'
// Prints `emulator http://127.0.0.1:PORT/v3/directline secret <secret>` once listening; SIGTERM/SIGINT close it.
import { startEmulator, type EmulatorOptions } from '../emulator/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
const emu = await startEmulator({ ...options, host: '127.0.0.1' });
process.stdout.write(`emulator ${emu.domain} secret ${emu.secret}\n`);
const stop = () => {
  void emu.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
