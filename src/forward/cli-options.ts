// The forward-proxy flags, declared once for `record` and `replay`.
import type { InferredOptionTypes } from 'yargs';
import { CA_CERT_FILE } from './ca.js';
import type { ForwardOptions } from './proxy.js';

export const forwardOptions = {
  forward: {
    type: 'boolean',
    default: false,
    describe:
      'Also be an HTTPS forward proxy (CONNECT) for clients that cannot change their domain: set ' +
      `HTTPS_PROXY=http://<host>:<port> for the client and trust ~/.directline-vcr/${CA_CERT_FILE} (made on first use; ` +
      'NODE_EXTRA_CA_CERTS for Node). Direct Line hosts are answered here, other hosts tunnelled untouched',
  },
  'forward-only-directline': {
    type: 'boolean',
    default: false,
    describe: 'With --forward: refuse (403) CONNECTs to hosts that are not Direct Line hosts instead of tunnelling them',
  },
} as const;

export type ForwardArgs = InferredOptionTypes<typeof forwardOptions>;

/** The `forward` option of startRecorder/startReplayer from the flags (undefined without --forward). */
export function forwardFromArgs(args: ForwardArgs): ForwardOptions | undefined {
  return args.forward ? { onlyDirectLine: args['forward-only-directline'] } : undefined;
}
