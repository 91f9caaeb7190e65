// What handing one batch of capture ops to the worker costs on each thread (capture-client.ts → capture-worker.ts):
// postMessage of the op objects (structured clone: serialised on the relay thread, deserialised in the worker)
// against two compact forms of the same ops, a JSON text and fields joined by a separator (strings travel as one
// string, which postMessage copies flat). Prints µs per HTTP exchange (hold + http + release) and per stream frame,
// then what the batch's bytes (the Slab) cost: a fresh 64 KB buffer transferred each time, or an exact copy.
//   node --import tsx bench/tools/capture-clone-cost.ts
import { Worker } from 'node:worker_threads';

const SEP = '\u001f';
const bearer = `Bearer ${'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9'.repeat(4)}`;
const exchange = (i: number) => [
  { k: 'hold', id: i, t: 1000 + i },
  {
    k: 'http',
    t: 1000 + i,
    conversationId: 'bench-conversation',
    route: 'activities.post',
    method: 'POST',
    path: '/v3/directline/conversations/bench-conversation/activities',
    query: {},
    requestHeaders: { authorization: bearer, 'content-type': 'application/json', 'x-ms-bot-agent': 'DirectLine/3.0 (bench)' },
    requestBody: { bytes: [i * 535, 500], contentType: 'application/json' },
    response: {
      status: 200,
      headers: { 'cache-control': 'no-cache', 'content-type': 'application/json; charset=utf-8' },
      body: { bytes: [i * 535 + 500, 35], contentType: 'application/json; charset=utf-8' },
    },
    duration: 1.234 + i,
  },
  { k: 'release', id: i },
];
const frame = (i: number) => ({
  k: 'msg',
  t: 1000 + i,
  socket: 3,
  conversationId: 'bench-conversation',
  from: 'server',
  bytes: [i * 1100, 1100],
  binary: false,
});

type Op = Record<string, unknown>;
/** Fields joined by SEP: records = field count, then the fields (objects as count + key/value pairs). */
function joinOps(ops: Op[]): string {
  const out: string[] = [];
  const put = (v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const e = Object.entries(v);
      out.push('o', String(e.length));
      for (const [k, x] of e) {
        out.push(k);
        put(x);
      }
    } else if (Array.isArray(v)) out.push('a', String(v.length), ...v.map(String));
    else if (typeof v === 'number') out.push('n', String(v));
    else if (typeof v === 'boolean') out.push(v ? 't' : 'f');
    else if (v === null || v === undefined) out.push('z');
    else out.push('s', String(v));
  };
  for (const op of ops) put(op);
  return out.join(SEP);
}
function splitOps(text: string): Op[] {
  const f = text.split(SEP);
  let i = 0;
  const get = (): unknown => {
    const tag = f[i++];
    if (tag === 'o') {
      const n = Number(f[i++]);
      const o: Op = {};
      for (let j = 0; j < n; j++) {
        const k = f[i++];
        o[k] = get();
      }
      return o;
    }
    if (tag === 'a') {
      const n = Number(f[i++]);
      const a = f.slice(i, i + n).map(Number);
      i += n;
      return a;
    }
    if (tag === 'n') return Number(f[i++]);
    if (tag === 't') return true;
    if (tag === 'f') return false;
    if (tag === 'z') return null;
    return f[i++];
  };
  const ops: Op[] = [];
  while (i < f.length) ops.push(get() as Op);
  return ops;
}

// The worker times its own side: the deserialisation (in postMessage's receive, before 'message') cannot be
// timed from JS, so it gets the same message through receiveMessageOnPort, timed around the call.
const worker = new Worker(
  `const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
   const SEP = ${JSON.stringify(SEP)};
   const __name = (f) => f; // tsx's helper in splitOps's source
   const splitOps = ${splitOps.toString()};
   parentPort.on('message', ({ port, form, n }) => {
     let ms = 0;
     for (let i = 0; i < n; i++) {
       const t0 = performance.now();
       const m = receiveMessageOnPort(port);
       if (form === 'json') JSON.parse(m.message);
       else if (form === 'joined') splitOps(m.message);
       ms += performance.now() - t0;
     }
     parentPort.postMessage(ms);
   });`,
  { eval: true },
);
const { MessageChannel } = await import('node:worker_threads');

async function measure(label: string, batches: Op[][], perBatch: number): Promise<void> {
  for (const form of ['objects', 'json', 'joined'] as const) {
    const { port1, port2 } = new MessageChannel();
    const t0 = performance.now();
    for (const b of batches) port1.postMessage(form === 'objects' ? b : form === 'json' ? JSON.stringify(b) : joinOps(b));
    const relayMs = performance.now() - t0;
    const done = new Promise<number>((r) => worker.once('message', r));
    worker.postMessage({ port: port2, form, n: batches.length }, [port2]);
    const workerMs = await done;
    port1.close();
    const per = (ms: number) => ((ms * 1000) / (batches.length * perBatch)).toFixed(2).padStart(6);
    console.log(`${label.padEnd(22)} ${form.padEnd(8)} relay thread ${per(relayMs)} µs   worker ${per(workerMs)} µs`);
  }
}

const N = 2000;
// A batch of the HTTP benchmark: ~12 exchanges per 5 ms; of a 50k-frame burst: ~150 frames per 5 ms.
const httpBatches = Array.from({ length: N }, (_, b) => Array.from({ length: 12 }, (_, i) => exchange(b * 12 + i)).flat());
const wsBatches = Array.from({ length: N / 4 }, (_, b) => Array.from({ length: 150 }, (_, i) => frame(b * 150 + i)));
for (let round = 0; round < 2; round++) {
  console.log(round === 0 ? 'warm-up' : 'measured');
  await measure('per HTTP exchange', httpBatches, 12);
  await measure('per stream frame', wsBatches, 150);
}

/** The relay thread's cost of posting `bodies` × 535 B with the batch, by how the slab is handed over. */
function slabCost(bodies: number, fresh: boolean): number {
  const body = Buffer.alloc(535, 7);
  const ops = [{ k: 'release', id: 1 }];
  const { port1, port2 } = new MessageChannel();
  port2.unref();
  let buf = new Uint8Array(64 * 1024);
  const n = 3000;
  const t0 = performance.now();
  for (let r = 0; r < n; r++) {
    let used = 0;
    for (let i = 0; i < bodies; i++) {
      buf.set(body, used);
      used += body.length;
    }
    let out: ArrayBuffer;
    if (fresh) {
      out = buf.buffer as ArrayBuffer;
      buf = new Uint8Array(64 * 1024);
    } else out = buf.slice(0, used).buffer;
    port1.postMessage({ ops, slab: out }, [out]);
  }
  const us = ((performance.now() - t0) * 1000) / n;
  port1.close();
  return us;
}
for (const bodies of [6, 60]) {
  slabCost(bodies, true);
  slabCost(bodies, false);
  console.log(
    `slab of ${String(bodies).padStart(2)} bodies: fresh 64 KB transferred ${slabCost(bodies, true).toFixed(1).padStart(6)} µs/post, ` +
      `exact copy ${slabCost(bodies, false).toFixed(1).padStart(6)} µs/post`,
  );
}
await worker.terminate();
