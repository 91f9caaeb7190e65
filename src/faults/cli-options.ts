// The fault-injection flags, declared once for `record` and `replay`.
import type { InferredOptionTypes } from 'yargs';
import type { VcrConfig } from '../config/config.js';
import type { FaultRule } from './rule.js';

export const faultOptions = {
  fault: {
    type: 'string',
    array: true,
    default: [] as string[],
    describe:
      'Fault rule, repeatable, added to the config file\'s "faults": drop-stream@frame=N, close-stream=CODE@after=2000ms, ' +
      'refuse-stream@open=N, status=429@route=activities.post,nth=2, expire-token@after=30s|request=N, ' +
      'latency=800ms±200ms@route=ROUTE|frames, conversation-gone@request=N (README: Rehearsing failures)',
  },
  seed: {
    type: 'number',
    describe: "Seed of the faults' jitter (default: the config file's, else 1): the same rules and seed give the same faults",
  },
} as const;

export type FaultArgs = InferredOptionTypes<typeof faultOptions>;

/** The `faults` and `seed` options of startRecorder/startReplayer: the config file's rules, then the flags'. */
export function faultsFromArgs(args: FaultArgs, config: VcrConfig | null): { faults: Array<string | FaultRule>; seed?: number } {
  return { faults: [...(config?.faults.faults ?? []), ...args.fault], seed: args.seed ?? config?.faults.seed };
}
