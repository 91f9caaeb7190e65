// The HTML of the Web Chat demo page. Everything interpolated is escaped: text with escapeHtml, the page
// configuration as JSON inside a non-executed <script type="application/json"> (with <, >, & and the JS line
// separators escaped so no value can close the tag). The boot script itself is constant.
import { WEBCHAT_INSTALL_COMMAND } from './bundle.js';

/**
 * How the page authenticates to Direct Line:
 *  - `{ token }` / `{ secret }`: baked into the page (anyone who can load the page sees it). For replay,
 *    where any value works: the replay session is created by whatever bearer starts the conversation.
 *  - `'generate'`: the page first calls POST {domain}/tokens/generate with a placeholder secret and uses the
 *    token it gets (replay of cassettes whose conversations begin with tokens.generate).
 *  - `'ask'`: the person gives a real secret or token in the browser (`#secret=…` / `#token=…` in the page
 *    URL, or the form on the page); it never reaches the server that serves the page except as the
 *    Authorization header of Direct Line requests. For recording.
 */
export type DemoCredentials = { token: string } | { secret: string } | 'generate' | 'ask';

export type DemoMode = 'replay' | 'record';

/** The placeholder bearer of replay pages: the replayer accepts any. */
export const DEMO_TOKEN = 'demo-token';
/** The placeholder secret a 'generate' page sends to {domain}/tokens/generate. */
export const DEMO_SECRET = 'demo-secret';

export interface PageContent {
  mode: DemoMode;
  basePath: string;
  /** Cassette name shown in the header. */
  title: string | null;
  credentials: DemoCredentials;
  /** One more line under the header (e.g. the messages a replay expects). */
  note: string | null;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const STYLE = `
*{box-sizing:border-box}
html,body{height:100%;margin:0}
body{display:flex;flex-direction:column;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif;\
background:#f3f4f6;color:#111827}
#dlvcr-header{padding:10px 16px;background:#1f2937;color:#f9fafb}
#dlvcr-header h1{margin:0;font-size:16px;font-weight:600}
#dlvcr-header p{margin:3px 0 0;font-size:13px;color:#d1d5db}
#dlvcr-header code{font-size:12px;background:#374151;padding:1px 5px;border-radius:4px;color:#f9fafb}
#dlvcr-header a{color:#93c5fd}
.badge{display:inline-block;margin-right:8px;padding:1px 7px;border-radius:9px;font-size:11px;font-weight:700;letter-spacing:.04em;\
text-transform:uppercase;vertical-align:1px}
.badge-replay{background:#2563eb}
.badge-record{background:#dc2626}
main{flex:1;min-height:0;display:flex;flex-direction:column;max-width:760px;width:100%;margin:0 auto;background:#fff}
#webchat{flex:1;min-height:0}
#dlvcr-status{margin:0;padding:8px 16px;background:#fef3c7;color:#78350f;font-size:13px}
#dlvcr-status[hidden]{display:none}
form{padding:24px 16px;font-size:14px;line-height:1.5}
form label{display:block;font-weight:600;margin-bottom:4px}
form input,form select,form button{font:inherit;padding:6px 8px}
form input{width:100%;margin-bottom:8px}
.missing{padding:24px 16px;font-size:15px;line-height:1.6}
.missing pre{background:#111827;color:#f9fafb;padding:10px 12px;border-radius:6px;overflow:auto}
`;

// Constant: reads its configuration from #dlvcr-config. Plain ES2017 so it needs no build step.
const BOOT = `
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('dlvcr-config').textContent);
  var domain = location.origin + config.basePath;
  var STORE = 'directline-vcr:credentials';
  var statusEl = document.getElementById('dlvcr-status');
  var form = document.getElementById('dlvcr-credentials');
  var chat = document.getElementById('webchat');

  function status(text) {
    statusEl.textContent = text;
    statusEl.hidden = !text;
  }

  function start(credentials) {
    if (!window.WebChat) {
      status('Web Chat did not load (webchat.js). Reload the page; if it persists, reinstall: ${WEBCHAT_INSTALL_COMMAND}');
      return;
    }
    if (form) form.hidden = true;
    chat.hidden = false;
    var options = { domain: domain, webSocket: true };
    if (credentials.token) options.token = credentials.token;
    else options.secret = credentials.secret;
    var directLine = window.WebChat.createDirectLine(options);
    directLine.connectionStatus$.subscribe(function (s) {
      // 3 ExpiredToken, 4 FailedToConnect, 5 Ended (botframework-directlinejs ConnectionStatus).
      if (s === 4) status('Could not connect to ' + domain + ': the ' + (credentials.token ? 'token' : 'secret') + \
' was refused or the service is unreachable (see the server log).');
      else if (s === 3) status('The Direct Line token expired.');
      else if (s === 5) status('The conversation ended.');
    });
    var store = window.WebChat.createStore();
    // For debugging (and the browser tests): the Direct Line object and Web Chat's redux store.
    window.directLineVcr = { domain: domain, directLine: directLine, store: store };
    window.WebChat.renderWebChat({ directLine: directLine, store: store, locale: 'en-US', sendTypingIndicator: false }, chat);
    var box = chat.querySelector('input, textarea');
    if (box) box.focus();
  }

  function fromUrl() {
    var found = null;
    [location.hash, location.search].forEach(function (part) {
      var params = new URLSearchParams(part.replace(/^[#?]/, ''));
      ['token', 'secret'].forEach(function (kind) {
        var value = params.get(kind);
        // A '+' in a query string decodes to a space; secrets and tokens never contain spaces.
        if (value && !found) found = { kind: kind, value: value.replace(/ /g, '+') };
      });
    });
    if (found) history.replaceState(null, '', location.pathname);
    return found;
  }

  function remembered() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || 'null'); } catch (e) { return null; }
  }

  function use(found) {
    try { sessionStorage.setItem(STORE, JSON.stringify(found)); } catch (e) { /* storage off: this load only */ }
    var credentials = {};
    credentials[found.kind] = found.value;
    start(credentials);
  }

  var forget = document.getElementById('dlvcr-forget');
  if (forget) forget.addEventListener('click', function (event) {
    event.preventDefault();
    try { sessionStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
    location.replace(location.pathname);
  });

  if (config.credentials === 'ask') {
    var given = fromUrl() || remembered();
    if (given && given.value) { use(given); return; }
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var value = form.elements.namedItem('value').value.trim();
      if (!value) return;
      use({ kind: form.elements.namedItem('kind').value === 'token' ? 'token' : 'secret', value: value });
    });
    form.elements.namedItem('value').focus();
  } else if (config.credentials === 'generate') {
    fetch(domain + '/tokens/generate', { method: 'POST', headers: { Authorization: 'Bearer ' + config.generateSecret } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status)); })
      .then(function (body) { start({ token: body.token }); })
      .catch(function (err) { status('POST ' + domain + '/tokens/generate failed: ' + err.message); });
  } else {
    start(config.credentials);
  }
})();
`;

function header(c: PageContent, extra: string): string {
  const badge =
    c.mode === 'replay' ? '<span class="badge badge-replay">replay</span>' : '<span class="badge badge-record">recording</span>';
  const what =
    c.mode === 'replay'
      ? c.title
        ? `Replaying cassette <code>${escapeHtml(c.title)}</code> offline`
        : 'Replaying a cassette offline'
      : c.title
        ? `Recording this conversation to <code>${escapeHtml(c.title)}</code>`
        : 'Proxying this conversation (not recording)';
  const note = c.note ? `<p>${escapeHtml(c.note)}</p>` : '';
  return `<header id="dlvcr-header"><h1>${badge}directline-vcr</h1><p>${what}${extra}</p>${note}</header>`;
}

function documentOf(c: PageContent, body: string): string {
  const title = `directline-vcr ${c.mode === 'replay' ? 'replay' : 'recording'}${c.title ? ` · ${c.title}` : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** The page with Web Chat. */
export function renderPage(c: PageContent): string {
  const ask = c.credentials === 'ask';
  const forget = ask ? ' · <a href="./" id="dlvcr-forget">use other credentials</a>' : '';
  const config = {
    mode: c.mode,
    basePath: c.basePath,
    credentials: c.credentials,
    ...(c.credentials === 'generate' ? { generateSecret: DEMO_SECRET } : {}),
  };
  const form = ask
    ? `<form id="dlvcr-credentials" hidden autocomplete="off">
<label for="dlvcr-value">Direct Line secret or token of the bot to record</label>
<input id="dlvcr-value" name="value" type="password" spellcheck="false" required>
<select name="kind" aria-label="It is a"><option value="secret">it is a secret</option><option value="token">it is a token</option></select>
<button type="submit">Start the conversation</button>
<p>It stays in this browser tab (sessionStorage, gone when the tab closes) and is sent only as the
Authorization header of the Direct Line requests, which the recorder forwards to the upstream and redacts in
the cassette. To skip this form, open this page as <code>/#secret=…</code> or <code>/#token=…</code>: the part
after <code>#</code> is never sent to any server, and the page removes it from the address bar.</p>
</form>`
    : '';
  const body = `${header(c, forget)}
<main>
<p id="dlvcr-status" role="status" hidden></p>
${form}
<div id="webchat" role="main"${ask ? ' hidden' : ''}></div>
</main>
<script type="application/json" id="dlvcr-config">${scriptJson(config)}</script>
<script src="./webchat.js"></script>
<script>${BOOT}</script>`;
  return documentOf(c, body);
}

/** Shown (HTTP 200) when botframework-webchat is not installed: what to install, and that the API works. */
export function renderMissingPage(c: PageContent, domain: string): string {
  const body = `${header(c, '')}
<main>
<div class="missing">
<p><strong>Web Chat is not installed</strong>, so this page cannot show the conversation. It needs the prebuilt
Web Chat bundle from the npm package <code>botframework-webchat</code>, an optional peer dependency of
directline-vcr. Install it in the project that runs directline-vcr, then reload this page:</p>
<pre>${escapeHtml(WEBCHAT_INSTALL_COMMAND)}</pre>
<p>The Direct Line endpoint works without it: point any client at <code>${escapeHtml(domain)}</code>.</p>
</div>
</main>`;
  return documentOf(c, body);
}
