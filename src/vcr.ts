// Record modes, with the vocabulary people know from VCR and Polly:
//   record      always go upstream, (re)write the cassette
//   replay      never go upstream; what the cassette cannot answer is an error
//   auto        replay when the cassette holds a recording, otherwise record it
//   passthrough proxy and log, write nothing
// "auto" decides per cassette, not per request: a Direct Line conversation lives on the service, so a
// request the cassette lacks in the middle of a replayed conversation cannot be sent upstream (the
// upstream has never heard of that conversation).
import { existsSync } from 'node:fs';
import { loadCassette } from './cassette/load.js';
import { startRecorder, type RecordOptions } from './record/recorder.js';
import { startReplayer, type ReplayOptions, type ReplaySummary } from './replay/index.js';
import type { FaultSummary } from './faults/plan.js';

export type VcrMode = 'record' | 'replay' | 'auto' | 'passthrough';
export const VCR_MODES: readonly VcrMode[] = ['record', 'replay', 'auto', 'passthrough'];

export interface VcrOptions extends Omit<RecordOptions, 'cassette'>, Omit<ReplayOptions, 'cassette' | 'port' | 'host' | 'logger'> {
  mode: VcrMode;
  cassette?: string;
}

export interface Vcr {
  /** What the server actually does ('auto' resolves to 'record' or 'replay'). */
  mode: Exclude<VcrMode, 'auto'>;
  url: string;
  domain: string;
  port: number;
  /** The cassette being written or served (null in passthrough). */
  cassettePath: string | null;
  demoPageUrl: string | null;
  /** url + '/_vcr/' when the web inspector is served (options.inspector), else null. */
  inspectorUrl: string | null;
  /** Replay only: what was served and what could not be matched. */
  summary(): ReplaySummary | null;
  /** Faults injected so far (record and replay). */
  faultSummary(): FaultSummary;
  close(): Promise<void>;
}

export async function startVcr(opts: VcrOptions): Promise<Vcr> {
  const { mode, cassette } = opts;
  if (mode !== 'passthrough' && !cassette) throw new Error(`mode "${mode}" needs a cassette file`);
  let effective: Vcr['mode'] = mode === 'auto' ? ((await hasRecording(cassette!)) ? 'replay' : 'record') : mode;
  if (effective === 'replay') {
    const r = await startReplayer({
      cassette: cassette!,
      port: opts.port,
      host: opts.host,
      logger: opts.logger,
      speed: opts.speed,
      publicUrl: opts.publicUrl,
      demoPage: opts.demoPage,
      tls: opts.tls,
      allowOrigin: opts.allowOrigin,
      forward: opts.forward,
      faults: opts.faults,
      seed: opts.seed,
      inspector: opts.inspector,
    });
    return {
      mode: effective,
      url: r.url,
      domain: r.domain,
      port: r.port,
      cassettePath: cassette!,
      demoPageUrl: r.demoPageUrl,
      inspectorUrl: r.inspectorUrl,
      summary: () => r.summary(),
      faultSummary: () => r.summary().faults,
      close: () => r.close(),
    };
  }
  const r = await startRecorder({ ...opts, cassette: effective === 'passthrough' ? undefined : cassette });
  effective = effective === 'passthrough' ? 'passthrough' : 'record';
  return {
    mode: effective,
    url: r.url,
    domain: r.domain,
    port: r.port,
    cassettePath: r.cassettePath,
    demoPageUrl: r.demoPageUrl,
    inspectorUrl: r.inspectorUrl,
    summary: () => null,
    faultSummary: () => r.faultSummary(),
    close: () => r.close(),
  };
}

async function hasRecording(file: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  const c = await loadCassette(file); // a broken cassette is an error, not a reason to overwrite it
  return c.events.length > 0;
}
