// The official client in Chromium: botframework-directlinejs's own browser build (dist/directline.js, UMD,
// defines `window.DirectLine` = { DirectLine, ConnectionStatus, … }, version 0.15.8 like lib/ in Node) in a
// blank page served from loopback. Needed for uploads: xhr2 in Node cannot send FormData (reference §4.6).
//
// The page logs every XMLHttpRequest the client opens (method, URL, status, and for a FormData body its
// parts), so a test sees the GET of each attachment's contentUrl and the multipart POST to /upload as the
// client made them, in the record run and in the replay run alike.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
/** lib/directLine.js is the package's main; the browser build sits next to lib/. */
export const DIRECTLINE_BROWSER_BUILD = join(dirname(require.resolve('botframework-directlinejs')), '..', 'dist', 'directline.js');

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves a blank page that loads dist/directline.js, on 127.0.0.1 (another origin than the proxy: CORS). */
export async function startPageServer(): Promise<PageServer> {
  const script = readFileSync(DIRECTLINE_BROWSER_BUILD);
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>directlinejs conformance</title>' +
    '<script src="/directline.js"></script></head><body></body></html>';
  const server: Server = createServer((req, res) => {
    if (req.url === '/directline.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': String(script.length) });
      res.end(script);
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface XhrPart {
  name: string;
  /** File parts: the file name and type the client gave the Blob. */
  filename?: string;
  type?: string;
  text: string;
}

export interface XhrLog {
  method: string;
  url: string;
  status?: number;
  parts?: XhrPart[];
}

export interface BrowserSnapshot {
  statuses: number[];
  activities: any[];
  errors: string[];
}

/** Runs in the page before its scripts: wraps XMLHttpRequest.open/send to log what the client sends. */
function instrumentXhr(): void {
  const w = window as unknown as { conformanceXhr: Array<Record<string, unknown>>; conformanceBlobs: Blob[][] };
  w.conformanceXhr = [];
  w.conformanceBlobs = [];
  const proto = XMLHttpRequest.prototype as XMLHttpRequest & { conformanceLog?: Record<string, unknown> };
  const open = proto.open;
  const send = proto.send;
  proto.open = function (
    this: XMLHttpRequest & { conformanceLog?: Record<string, unknown> },
    method: string,
    url: string | URL,
    ...rest: unknown[]
  ) {
    this.conformanceLog = { method, url: String(url) };
    return (open as (...a: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof proto.open;
  proto.send = function (
    this: XMLHttpRequest & { conformanceLog?: Record<string, unknown> },
    body?: Document | XMLHttpRequestBodyInit | null,
  ) {
    const log = this.conformanceLog;
    if (log) {
      w.conformanceXhr.push(log);
      if (body instanceof FormData) {
        const parts: Array<Record<string, unknown>> = [];
        const blobs: Blob[] = [];
        body.forEach((value, name) => {
          if (typeof value === 'string') parts.push({ name, value });
          else {
            parts.push({ name, filename: (value as File).name, type: value.type, blob: blobs.length });
            blobs.push(value);
          }
        });
        log.parts = parts;
        log.blobs = w.conformanceBlobs.length;
        w.conformanceBlobs.push(blobs);
      }
      this.addEventListener('loadend', () => {
        log.status = this.status;
      });
    }
    return send.call(this, body);
  };
}

export class BrowserClient {
  private constructor(
    readonly page: Page,
    readonly pageErrors: string[],
  ) {}

  /** Opens the page and starts `new DirectLine.DirectLine(options)` there, subscribed to activity$. */
  static async start(
    browser: Browser,
    pageUrl: string,
    options: { domain: string; secret?: string; token?: string; webSocket?: boolean },
  ): Promise<BrowserClient> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
    });
    await page.addInitScript(instrumentXhr);
    await page.goto(pageUrl);
    await page.evaluate((opts) => {
      const w = window as unknown as { DirectLine?: { DirectLine: new (o: unknown) => any }; conformance: Record<string, unknown> };
      if (!w.DirectLine) throw new Error('dist/directline.js did not define window.DirectLine');
      const dl = new w.DirectLine.DirectLine(opts);
      const state = { dl, statuses: [] as number[], activities: [] as unknown[], errors: [] as string[] };
      w.conformance = state;
      dl.connectionStatus$.subscribe((s: number) => state.statuses.push(s));
      dl.activity$.subscribe(
        (a: unknown) => state.activities.push(a),
        (e: unknown) => state.errors.push(String((e as Error)?.message ?? e)),
      );
    }, options);
    return new BrowserClient(page, errors);
  }

  snapshot(): Promise<BrowserSnapshot> {
    return this.page.evaluate(() => {
      const s = (window as unknown as { conformance: { statuses: number[]; activities: unknown[]; errors: string[] } }).conformance;
      return JSON.parse(JSON.stringify({ statuses: s.statuses, activities: s.activities, errors: s.errors })) as {
        statuses: number[];
        activities: any[];
        errors: string[];
      };
    });
  }

  /** Waits until the page's activities satisfy `predicate` (checked in Node every 50 ms). */
  async waitForActivities(predicate: (activities: any[]) => boolean, what: string, timeoutMs = 8000): Promise<BrowserSnapshot> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const snap = await this.snapshot();
      if (predicate(snap.activities)) return snap;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} in Chromium; statuses ${JSON.stringify(snap.statuses)}, ` +
            `activities ${JSON.stringify(snap.activities.map((a) => `${a.type}:${a.text ?? ''}`))}, errors ` +
            `${JSON.stringify([...snap.errors, ...this.pageErrors])}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** postActivity in the page; resolves with what it emits (the id, or "retry"). */
  post(activity: Record<string, unknown>): Promise<string> {
    return this.page.evaluate(
      (a) =>
        new Promise<string>((resolve, reject) => {
          const s = (window as unknown as { conformance: { dl: any } }).conformance;
          s.dl.postActivity(a).subscribe(
            (id: string) => resolve(id),
            (e: unknown) => reject(new Error(String((e as Error)?.message ?? e))),
          );
        }),
      activity,
    );
  }

  /**
   * Posts a message whose attachment is a file made in the page: its contentUrl is a blob: URL, which the
   * client GETs (arraybuffer) and sends as a multipart part to …/upload (reference §4.2 step 6).
   */
  postWithFile(
    message: Record<string, unknown>,
    file: { name: string; type: string; content: string },
  ): Promise<{ id: string; contentUrl: string }> {
    return this.page.evaluate(
      ({ m, f }) =>
        new Promise<{ id: string; contentUrl: string }>((resolve, reject) => {
          const s = (window as unknown as { conformance: { dl: any } }).conformance;
          const contentUrl = URL.createObjectURL(new Blob([f.content], { type: f.type }));
          const activity = { ...m, attachments: [{ contentType: f.type, contentUrl, name: f.name }] };
          s.dl.postActivity(activity).subscribe(
            (id: string) => resolve({ id, contentUrl }),
            (e: unknown) => reject(new Error(String((e as Error)?.message ?? e))),
          );
        }),
      { m: message, f: file },
    );
  }

  /** Every XMLHttpRequest the page opened, FormData parts with their contents. */
  xhr(): Promise<XhrLog[]> {
    return this.page.evaluate(async () => {
      const w = window as unknown as { conformanceXhr: Array<Record<string, any>>; conformanceBlobs: Blob[][] };
      const out: Array<Record<string, unknown>> = [];
      for (const log of w.conformanceXhr) {
        const entry: Record<string, unknown> = { method: log.method, url: log.url, status: log.status };
        if (log.parts) {
          const blobs = w.conformanceBlobs[log.blobs as number];
          entry.parts = await Promise.all(
            (log.parts as Array<Record<string, any>>).map(async (p) =>
              p.blob === undefined
                ? { name: p.name, text: p.value }
                : { name: p.name, filename: p.filename, type: p.type, text: await blobs[p.blob].text() },
            ),
          );
        }
        out.push(entry);
      }
      return out as unknown as Array<{
        method: string;
        url: string;
        status?: number;
        parts?: Array<{ name: string; filename?: string; type?: string; text: string }>;
      }>;
    });
  }

  /** A private field of the page's DirectLine (conversationId, token, watermark), read for the assertions. */
  field(name: 'conversationId' | 'token' | 'watermark'): Promise<string> {
    return this.page.evaluate((n) => (window as unknown as { conformance: { dl: Record<string, string> } }).conformance.dl[n], name);
  }

  end(): Promise<void> {
    return this.page.evaluate(() => {
      (window as unknown as { conformance: { dl: { end(): void } } }).conformance.dl.end();
    });
  }

  close(): Promise<void> {
    return this.page.close();
  }
}
