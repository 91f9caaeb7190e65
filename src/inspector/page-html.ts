// The inspector page's HTML and CSS. The behaviour is in page/*.ts (ES modules, plain DOM, no library).
import { escapeHtml } from '../web/page.js';

export function renderInspectorPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · directline-vcr inspector</title>
<style>${CSS}</style>
</head>
<body>
<header id="top">
  <h1><span class="logo">directline-vcr</span> <span id="title">${escapeHtml(title)}</span> <span id="live" hidden></span></h1>
  <form id="filters" autocomplete="off">
    <label>Conversation <select id="f-conversation"><option value="">all</option></select></label>
    <label>Route <select id="f-route"><option value="">all</option></select></label>
    <label>Activity <select id="f-type"><option value="">all</option></select></label>
    <label>Text <input id="f-text" type="search" placeholder="filter rows (/)" size="22"></label>
    <label class="check"><input id="f-keepalive" type="checkbox" checked> keep-alives</label>
    <span id="count"></span>
  </form>
  <p class="keys">↑/↓ or j/k: rows · n/p: next/previous turn · Enter: details · Esc: close · /: filter</p>
</header>
<main>
  <section id="timeline" aria-label="Timeline">
    <div id="axis"></div>
    <div id="rows" tabindex="0" role="listbox" aria-label="Events"><div id="rows-inner"></div></div>
  </section>
  <aside id="details" hidden aria-label="Details">
    <div class="pane-head"><h2 id="details-title">Details</h2><button id="details-close" type="button" title="Close (Esc)">×</button></div>
    <div id="details-body"></div>
  </aside>
  <aside id="chat" aria-label="The conversation as the user saw it">
    <div class="pane-head"><h2>As the user saw it</h2><span id="chat-mode"></span></div>
    <div id="chat-body"><p class="empty">Pick a conversation.</p></div>
  </aside>
</main>
<script type="module" src="./page/main.js"></script>
</body>
</html>
`;
}

const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--dim:#6a737d;--line:#e4e7eb;--sel:#e8f0fe;--http:#0b6bcb;--down:#1a7f37;--up:#8250df;
  --err:#cf222e;--errbg:#ffebe9;--cause:#d4a72c;--ph:#fff2b3;--row:22px}
*{box-sizing:border-box}
[hidden]{display:none!important}
html,body{margin:0;height:100%;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
body{display:flex;flex-direction:column}
header#top{padding:6px 12px;border-bottom:1px solid var(--line);background:#f6f8fa}
h1{font-size:15px;margin:0 0 4px}
.logo{font-weight:700}
#title{font-weight:400;color:var(--dim)}
#live{margin-left:8px;padding:1px 6px;border-radius:8px;background:var(--down);color:#fff;font-size:11px;vertical-align:middle}
#live.replay{background:var(--up)}
#filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center}
#filters label{color:var(--dim)}
#filters select,#filters input[type=search]{font:inherit;margin-left:4px;max-width:260px}
#count{color:var(--dim)}
.keys{margin:4px 0 0;color:var(--dim);font-size:11px}
main{flex:1;min-height:0;display:flex}
#timeline{flex:1;min-width:0;display:flex;flex-direction:column}
#axis{height:20px;border-bottom:1px solid var(--line);position:relative;font-size:10px;color:var(--dim)}
#rows{flex:1;overflow:auto;position:relative;outline:none;font:12px/var(--row) ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
#rows-inner{position:relative}
.row{position:absolute;left:0;right:0;height:var(--row);display:flex;align-items:center;white-space:nowrap;
  border-bottom:1px solid #f3f4f6;cursor:pointer}
.row:hover{background:#f6f8fa}
.row.sel{background:var(--sel)}
.row.linked{background:#fff8c5}
.row.err{color:var(--err);background:var(--errbg)}
.row.conv{font:600 12px/var(--row) system-ui,sans-serif;background:#f6f8fa;cursor:default;padding-left:8px;color:var(--fg)}
.row.conv .meta{font-weight:400;color:var(--dim);margin-left:8px}
.t{width:78px;flex:none;text-align:right;padding-right:8px;color:var(--dim)}
.lanes{flex:none;position:relative;height:100%}
.lane{position:absolute;top:0;bottom:0;width:2px;background:var(--line)}
.lane.alive{background:#9ecbff}
.dot{position:absolute;top:6px;width:10px;height:10px;border-radius:50%;margin-left:-4px;background:var(--http)}
.dot.down{background:var(--down)}.dot.up{background:var(--up)}.dot.ka{background:#c9d1d9;width:6px;height:6px;top:8px;margin-left:-2px}
.dot.err{background:var(--err)}
.causes{flex:none;width:18px;position:relative;height:100%}
.cline{position:absolute;left:8px;width:2px;background:var(--cause)}
.cstart{position:absolute;left:4px;top:7px;width:10px;height:8px;border-radius:4px 4px 0 0;background:var(--cause)}
.cend{position:absolute;left:8px;top:10px;width:8px;height:2px;background:var(--cause)}
.dir{width:16px;flex:none;text-align:center;color:var(--dim)}
.dir.up{color:var(--up)}.dir.down{color:var(--down)}
.text{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis}
.kind{display:inline-block;min-width:64px;color:var(--dim)}
.wait{color:var(--cause);margin-left:6px}
.wf{flex:none;width:220px;position:relative;height:100%;border-left:1px solid var(--line);margin-left:6px}
.bar{position:absolute;top:7px;height:8px;min-width:2px;background:var(--http);border-radius:2px}
.bar.down{background:var(--down)}.bar.up{background:var(--up)}.bar.ka{background:#c9d1d9}.bar.err{background:var(--err)}
.waitbar{position:absolute;top:10px;height:2px;background:var(--cause);opacity:.8}
aside{border-left:1px solid var(--line);display:flex;flex-direction:column;min-height:0}
#details{width:440px;flex:none}
#chat{width:360px;flex:none}
.pane-head{display:flex;align-items:center;justify-content:space-between;padding:4px 10px;border-bottom:1px solid var(--line);
  background:#f6f8fa}
.pane-head h2{font-size:13px;margin:0}
#chat-mode{color:var(--dim);font-size:11px}
.pane-head button{font-size:16px;border:0;background:none;cursor:pointer}
#details-body{overflow:auto;padding:8px 10px;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
#details-body h3{font:600 12px system-ui,sans-serif;margin:10px 0 4px}
.json details{margin-left:14px}
.json summary{cursor:pointer;margin-left:-14px;list-style:none}
.json summary::before{content:"▸ ";color:var(--dim)}
.json details[open]>summary::before{content:"▾ "}
.json .kv{margin-left:14px;white-space:pre-wrap;word-break:break-all}
.json .k{color:#953800}.json .s{color:#0a3069}.json .n{color:#0550ae}.json .b{color:#cf222e}.json .z{color:var(--dim)}
.json .count{color:var(--dim)}
mark.ph{background:var(--ph);border:1px dashed #bf8700;border-radius:3px;padding:0 2px;color:#6f4e00}
.vs{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.vs>div{border:1px solid var(--line);border-radius:4px;padding:4px}
.vs .bad{border-color:var(--err);background:var(--errbg)}
.mismatch-reason{color:var(--err);font-family:system-ui,sans-serif}
#chat-body{flex:1;overflow:auto;padding:8px;min-height:0}
#chat-body.webchat{padding:0}
.bubble{max-width:85%;margin:6px 0;padding:6px 10px;border-radius:12px;background:#f1f3f5;white-space:pre-wrap;
  word-wrap:break-word;cursor:pointer}
.bubble.user{margin-left:auto;background:#0b6bcb;color:#fff}
.bubble .who{display:block;font-size:10px;opacity:.7}
.bubble .card{margin-top:4px;padding:4px 6px;border:1px solid #d0d7de;border-radius:6px;background:#fff;color:var(--fg)}
.bubble img{max-width:100%}
.chips{display:flex;flex-wrap:wrap;gap:4px;margin:2px 0 8px}
.chips span{border:1px solid #0b6bcb;color:#0b6bcb;border-radius:10px;padding:0 8px;font-size:12px}
.empty{color:var(--dim)}
`;
