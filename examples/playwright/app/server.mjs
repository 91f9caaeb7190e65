// The app under test: a page with Web Chat (from the local install, no CDN) and the tiny backend that hands
// the page a Direct Line token, so the secret never reaches the browser. The page sets no domain: Web Chat
// talks to https://directline.botframework.com, and the Playwright fixture routes that to a cassette.
//
//   PORT                  where to listen (default 3100)
//   DIRECT_LINE_SECRET    the bot's secret, read by the backend only
//   DIRECT_LINE_TOKEN_URL where tokens come from (default the hosted service's tokens/generate)
import http from 'node:http';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PORT ?? 3100);
const tokenUrl = process.env.DIRECT_LINE_TOKEN_URL ?? 'https://directline.botframework.com/v3/directline/tokens/generate';

/** botframework-webchat's dist/webchat.js: its exports map hides the file, so walk up from its main entry. */
function webChatBundle() {
  let dir = dirname(createRequire(import.meta.url).resolve('botframework-webchat'));
  while (
    !existsSync(join(dir, 'package.json')) ||
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== 'botframework-webchat'
  ) {
    const up = dirname(dir);
    if (up === dir) throw new Error('botframework-webchat is not installed (npm i -D botframework-webchat)');
    dir = up;
  }
  return join(dir, 'dist', 'webchat.js');
}
const bundle = webChatBundle();

async function token(res) {
  const secret = process.env.DIRECT_LINE_SECRET;
  if (!secret) {
    res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'DIRECT_LINE_SECRET is not set' }));
    return;
  }
  const upstream = await fetch(tokenUrl, { method: 'POST', headers: { authorization: `Bearer ${secret}` } });
  const body = await upstream.json();
  // Only the token goes to the browser.
  res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(JSON.stringify({ token: body.token }));
}

http
  .createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://app.invalid').pathname;
    if (req.method === 'POST' && path === '/api/directline/token') {
      token(res).catch((err) =>
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err.message) })),
      );
    } else if (path === '/webchat.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      createReadStream(bundle).pipe(res);
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      createReadStream(join(here, 'index.html')).pipe(res);
    } else {
      res.writeHead(404).end();
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`app on http://127.0.0.1:${port}`));
