// Artillery processor for directline.yml: the stream side of a Direct Line conversation (Artillery's HTTP
// engine does the REST calls). The recorded turns come from the cassette via directline-vcr's
// conversationScripts; each reply is checked against them, and the metrics say how many were whole.
const WebSocket = require('ws');

const CASSETTE = process.env.CASSETTE || 'recordings/demo.json';
let scripts = null;

function loadScripts() {
  scripts ??= import('directline-vcr').then(async (vcr) => vcr.conversationScripts(await vcr.loadCassette(CASSETTE), CASSETTE));
  return scripts;
}

/** The recorded conversation a live id was minted from: `<recorded>_<n>` or `<recorded>.<instance>_<n>`. */
function scriptOf(list, liveId) {
  return list
    .filter((s) => liveId.startsWith(s.recordedId) && '_.'.includes(liveId.charAt(s.recordedId.length)))
    .sort((a, b) => b.recordedId.length - a.recordedId.length)[0];
}

function pickUser(context, _events, done) {
  context.vars.userId = `artillery-${Math.random().toString(36).slice(2, 10)}`;
  context.vars.secret = process.env.DIRECTLINE_SECRET || 'load-test-secret';
  done();
}

function openStream(context, events, done) {
  loadScripts().then((list) => {
    const script = scriptOf(list, String(context.vars.conversationId));
    if (!script) return done(new Error(`conversation ${context.vars.conversationId} is none of the cassette's`));
    const state = { script, turn: 0, expected: [...script.turns[0].replies], got: [], waiter: null, failure: null, sentAt: 0 };
    context.vars.userMessages = script.turns.slice(1).map((t) => t.say);
    context.dl = state;
    const ws = new WebSocket(String(context.vars.streamUrl));
    state.ws = ws;
    ws.on('message', (data) => {
      const text = data.toString();
      if (!text.trim()) return;
      for (const a of JSON.parse(text).activities || []) {
        if (a.type === 'message' && typeof a.text === 'string' && a.from && a.from.id !== context.vars.userId) state.got.push(a.text);
      }
      if (state.waiter) state.waiter();
    });
    let opened = false;
    ws.once('error', (err) => {
      if (!opened) done(err);
      else state.failure = err;
    });
    // The welcome arrives once the stream is open.
    ws.once('open', () => {
      opened = true;
      waitFor(state, events, done);
    });
  }, done);
}

function markSent(context, _events, done) {
  context.dl.sentAt = Date.now();
  done();
}

/** After a user message's POST: its recorded replies, in order (turn_ms: POST sent → last reply). */
function awaitReplies(context, events, done) {
  const state = context.dl;
  state.turn++;
  state.expected.push(...state.script.turns[state.turn].replies);
  waitFor(state, events, (err) => {
    if (!err) events.emit('histogram', 'directline.turn_ms', Date.now() - state.sentAt);
    done(err);
  });
}

function waitFor(state, events, done) {
  const timer = setTimeout(
    () => finish(new Error(`replies did not arrive: got ${JSON.stringify(state.got)}, recorded ${JSON.stringify(state.expected)}`)),
    30000,
  );
  function finish(err) {
    clearTimeout(timer);
    state.waiter = null;
    if (err) events.emit('counter', 'directline.broken', 1);
    done(err);
  }
  state.waiter = () => {
    if (state.failure) return finish(state.failure);
    if (state.got.length < state.expected.length) return;
    const same = state.expected.every((t, i) => state.got[i] === t);
    finish(same ? undefined : new Error(`bot said ${JSON.stringify(state.got)}, recorded ${JSON.stringify(state.expected)}`));
  };
  state.waiter();
}

function closeStream(context, events, done) {
  context.dl.ws.close();
  events.emit('counter', 'directline.whole', 1);
  done();
}

module.exports = { pickUser, openStream, markSent, awaitReplies, closeStream };
