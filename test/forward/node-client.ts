// A Node app that cannot change its Direct Line domain (none is set: https://directline.botframework.com) and
// reaches the network through HTTPS_PROXY, run as a child process so NODE_EXTRA_CA_CERTS (read at start-up)
// applies. botframework-directlinejs in Node honours no proxy variable itself: it sends HTTP through xhr2 and
// opens the stream with the global WebSocket (ws). So, as a real app would, it hands both an agent for
// HTTPS_PROXY: xhr2's nodejsSet({ httpsAgent }) and a ws subclass passed as the client's WebSocket service.
//   env: HTTPS_PROXY, DL_SECRET, DL_TRANSPORT (websocket | polling), DL_SAY (text to send)
// Prints one JSON line: { texts: [...activity texts in order], statuses: [...] }.
import { createRequire } from 'node:module';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket from 'ws';
import { DirectLine } from 'botframework-directlinejs';
import { installDirectLineGlobals } from '../support/directline-client.ts';

const proxy = process.env.HTTPS_PROXY;
if (!proxy) throw new Error('HTTPS_PROXY is not set');
const agent = new HttpsProxyAgent(proxy);
installDirectLineGlobals();
(createRequire(import.meta.url)('xhr2') as { nodejsSet(o: object): void }).nodejsSet({ httpsAgent: agent });

class ProxiedWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { agent });
  }
}

const say = process.env.DL_SAY ?? 'hello';
const dl = new DirectLine({
  secret: process.env.DL_SECRET,
  webSocket: process.env.DL_TRANSPORT !== 'polling',
  pollingInterval: 200,
  WebSocket: ProxiedWebSocket,
} as unknown as ConstructorParameters<typeof DirectLine>[0]);
const texts: string[] = [];
const statuses: number[] = [];
dl.connectionStatus$.subscribe((s) => statuses.push(s));
const timer = setTimeout(() => finish(`timed out; texts so far ${JSON.stringify(texts)}, statuses ${JSON.stringify(statuses)}`), 20_000);
let sent = false;
dl.activity$.subscribe(
  (a: { type: string; text?: string }) => {
    if (a.type !== 'message') return;
    texts.push(a.text ?? '');
    if (!sent && a.text === 'Welcome to the emulator bot!') {
      sent = true;
      dl.postActivity({ type: 'message', from: { id: 'dl_node-app' }, text: say } as never).subscribe(
        () => undefined,
        (err: unknown) => finish(`post failed: ${String(err)}`),
      );
    }
    if (a.text === `You said: ${say}`) finish(null);
  },
  (err: unknown) => finish(`activity$ failed: ${String(err)}`),
);

let finished = false;
function finish(error: string | null): void {
  if (finished) return; // end() below makes activity$ error with "conversation ended"
  finished = true;
  clearTimeout(timer);
  process.stdout.write(`${JSON.stringify({ texts, statuses, error })}\n`);
  dl.end();
  setTimeout(() => process.exit(error ? 1 : 0), 50);
}
