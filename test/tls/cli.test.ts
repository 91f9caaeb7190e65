// The command line of this issue: `record --help` names the default upstream and the other Direct Line hosts,
// and both servers show the TLS listener and --allow-origin flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function help(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', command, '--help'],
      { cwd: ROOT, timeout: 20_000, env: { ...process.env, COLUMNS: '100' } },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(stdout);
      },
    );
  });
}

test('record --help: the default upstream, the regional/sovereign/Copilot Studio hosts, and the TLS, proxy and CORS flags', async () => {
  const [record, replay] = await Promise.all([help('record'), help('replay')]);
  assert.match(record, /hosted service \(default\) +https:\/\/directline\.botframework\.com\/v3\/directline/);
  for (const host of [
    'https://europe.directline.botframework.com/v3/directline',
    'https://india.directline.botframework.com/v3/directline',
    'https://webchat.botframework.com/v3/directline',
    'https://webchat.botframework.azure.us/v3/directline',
    'https://directline.botframework.azure.cn/v3/directline',
    'https://unitedstates.directline.botframework.com/v3/directline',
  ]) {
    assert.ok(record.includes(host), `record --help shows ${host} unbroken`);
  }
  for (const flag of [
    '--ca',
    '--insecure',
    '--proxy',
    '--tls-cert',
    '--tls-key',
    '--allow-origin',
    'HTTPS_PROXY',
    'NO_PROXY',
    'NODE_EXTRA_CA_CERTS',
  ]) {
    assert.ok(record.includes(flag), `record --help mentions ${flag}`);
  }
  for (const flag of ['--tls-cert', '--tls-key', '--allow-origin', 'Private Network Access'])
    assert.ok(replay.includes(flag), `replay --help mentions ${flag}`);
});
