// Scale-out: Debian's nginx with examples/scale-out/nginx.conf in front of three `replay --instance`
// processes, 200 concurrent conversations through it (WebSocket and polling, each refreshing its token),
// every one whole, each process serving some, nothing unmatched. 127.0.0.1 only, bounded in count and time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadCassette } from '../../src/cassette/load.js';
import { runLoad } from '../../src/load/runner.js';
import { conversationScripts } from '../../src/load/script.js';
import { instanceOfConversationId, instanceOfToken } from '../../src/replay/instance.js';
import { tempDir, type TempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CASSETTE = 'recordings/demo.json';
const INSTANCES = ['a', 'b', 'c'] as const;
const CONVERSATIONS = 200;

interface ReplayProcess {
  instance: string;
  port: number;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function spawnReplay(instance: string, publicUrl: string): Promise<ReplayProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'replay',
      '--cassette',
      CASSETTE,
      '--port',
      '0',
      '--speed',
      'instant',
      '--instance',
      instance,
      '--public-url',
      publicUrl,
      '--no-demo-page',
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 100_000) err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replay ${instance} printed no domain within 30 s: ${out} ${err}`)), 30_000);
    const check = () => {
      const m = /domain = http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`replay ${instance} exited (${code}) before listening: ${err}`));
    });
  });
  return { instance, port, child, stdout: () => out, stderr: () => err, exited };
}

/** The shipped config, pointed at this run's ports: the listen address and each instance's upstream. */
async function nginxConfig(listen: number, replays: ReplayProcess[]): Promise<string> {
  let conf = await readFile(new URL('../../examples/scale-out/nginx.conf', import.meta.url), 'utf8');
  const swap = (from: string, to: string) => {
    assert.ok(conf.includes(from), `examples/scale-out/nginx.conf has ${from}`);
    conf = conf.replaceAll(from, to);
  };
  swap('listen 127.0.0.1:8080;', `listen 127.0.0.1:${listen};`);
  for (const [i, r] of replays.entries()) swap(`server 127.0.0.1:${5001 + i};`, `server 127.0.0.1:${r.port};`);
  return conf;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`nothing answers at ${url}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('replay processes behind nginx (examples/scale-out/nginx.conf)', () => {
  let tmp: TempDir;
  let nginx: ChildProcess | null = null;
  let nginxLog = '';
  let domain = '';
  const replays: ReplayProcess[] = [];
  /** The process the routing test asked directly for a conversation it does not own (its one unmatched request). */
  let askedWrongly = '';

  before(async () => {
    const which = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
    assert.equal(which.error, undefined, 'nginx is installed (Debian package nginx-light, listed in .ci/apt-packages)');
    tmp = await tempDir('dlvcr-nginx-');
    await chmod(tmp.dir, 0o755); // when run as root, nginx workers run as nobody and must reach the temp paths
    const listen = await freePort();
    domain = `http://127.0.0.1:${listen}/v3/directline`;
    replays.push(...(await Promise.all(INSTANCES.map((id) => spawnReplay(id, `http://127.0.0.1:${listen}`)))));
    await writeFile(tmp.file('nginx.conf'), await nginxConfig(listen, replays));
    nginx = spawn(
      'nginx',
      ['-p', tmp.dir, '-c', tmp.file('nginx.conf'), '-e', 'stderr', '-g', `daemon off; pid ${tmp.file('nginx.pid')};`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    nginx.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (nginxLog.length < 100_000) nginxLog += d;
    });
    await waitForHttp(`http://127.0.0.1:${listen}/`, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}; nginx said: ${nginxLog}`);
    });
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const gone = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGQUIT');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (nginx.exitCode === null) nginx.kill('SIGKILL');
    }
    for (const r of replays) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await tmp?.cleanup();
  });

  it('routes each conversation to the process that started it: by the id in the path, and by the bearer for tokens/refresh', async () => {
    const gen = await call(domain, 'POST', '/tokens/generate', { bearer: 'some-secret' });
    assert.equal(gen.status, 200);
    const instance = instanceOfConversationId(gen.body.conversationId);
    assert.ok(
      instance && (INSTANCES as readonly string[]).includes(instance),
      `conversation id ${gen.body.conversationId} names an instance`,
    );
    assert.equal(instanceOfToken(gen.body.token), instance, 'the token names the same instance');
    // a start with the generated token names no conversation: only the bearer can take it to the right process
    const start = await call(domain, 'POST', '/conversations', { bearer: gen.body.token, body: { user: { id: 'u1' } } });
    assert.equal(start.status, 201, start.text);
    assert.equal(start.body.conversationId, gen.body.conversationId);
    assert.ok(start.body.streamUrl.startsWith(domain.replace(/^http/, 'ws')), `streamUrl ${start.body.streamUrl} points at nginx`);
    const refresh = await call(domain, 'POST', '/tokens/refresh', { bearer: start.body.token });
    assert.equal(refresh.status, 200, refresh.text);
    assert.equal(refresh.body.conversationId, gen.body.conversationId);
    // the routing is what makes it work: another process refuses the conversation, naming its owner
    const other = replays.find((r) => r.instance !== instance)!;
    askedWrongly = other.instance;
    const direct = await call(
      `http://127.0.0.1:${other.port}/v3/directline`,
      'GET',
      `/conversations/${encodeURIComponent(gen.body.conversationId)}/activities`,
      { bearer: start.body.token },
    );
    assert.equal(direct.status, 404);
    assert.equal(direct.body.error.code, 'ReplayMismatch');
    assert.match(direct.body.error.message, new RegExp(`started by replay instance ${instance}, and this is instance ${other.instance}`));
    const polled = await call(domain, 'GET', `/conversations/${encodeURIComponent(gen.body.conversationId)}/activities`, {
      bearer: start.body.token,
    });
    assert.equal(polled.status, 200, polled.text);
  });

  it(`${CONVERSATIONS} concurrent conversations (WebSocket and polling) through nginx, each whole; every process serves some`, async () => {
    const report = await runLoad({
      domain,
      cassette: CASSETTE,
      conversations: CONVERSATIONS,
      concurrency: CONVERSATIONS,
      mode: 'mixed',
      refreshToken: true,
      pollIntervalMs: 300,
      conversationTimeoutMs: 90_000,
      deadlineMs: 120_000,
    });
    console.log(
      `# ${report.conversations.whole}/${CONVERSATIONS} whole in ${report.seconds.toFixed(1)} s ` +
        `(${report.conversationsPerSecond.toFixed(1)} conversations/s); turn p50 ${report.turnMs.p50} ms, p99 ${report.turnMs.p99} ms; ` +
        `by instance ${JSON.stringify(report.byInstance)}`,
    );
    assert.deepEqual(report.failures, []);
    assert.equal(report.conversations.whole, CONVERSATIONS);
    assert.equal(report.byMode.websocket, CONVERSATIONS / 2);
    assert.equal(report.byMode.polling, CONVERSATIONS / 2);
    const posts = conversationScripts(await loadCassette(CASSETTE))[0].turns.length - 1;
    assert.equal(report.turnMs.count, CONVERSATIONS * posts, 'a turn per user message of each conversation');
    for (const id of INSTANCES)
      assert.ok((report.byInstance[id] ?? 0) > 0, `instance ${id} started some conversations: ${JSON.stringify(report.byInstance)}`);

    // each process's own summary (printed when it stops): it served some, and nothing went unmatched (but the
    // routing test's direct request)
    let served = 0;
    for (const r of replays) {
      r.child.kill('SIGTERM');
      assert.equal(await r.exited, 0, r.stderr());
      const m = new RegExp(
        `replay summary \\(instance ${r.instance}\\): (\\d+) conversation\\(s\\) served, (\\d+) request\\(s\\) matched, (\\d+) unmatched`,
      ).exec(r.stdout());
      assert.ok(m, `summary of ${r.instance}: ${r.stdout()}`);
      const [conversations, unmatched] = [Number(m[1]), Number(m[3])];
      assert.ok(conversations > 0, `instance ${r.instance} served ${conversations}`);
      assert.equal(unmatched, r.instance === askedWrongly ? 1 : 0, `instance ${r.instance}: ${r.stdout()}`);
      // its share as the clients saw it (+1: the routing test's conversation)
      assert.ok(
        conversations === report.byInstance[r.instance] || conversations === report.byInstance[r.instance] + 1,
        `instance ${r.instance}: ${conversations} vs ${report.byInstance[r.instance]}`,
      );
      served += conversations;
    }
    assert.equal(served, CONVERSATIONS + 1);
  });
});
