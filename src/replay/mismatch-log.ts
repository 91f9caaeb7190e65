// Everything the cassette could not answer: counted, kept for the summary (the last 10,000), logged, told
// to the observer, and answered with a Direct Line-shaped ReplayMismatch body saying what arrived, what
// was expected next and how to re-record.
import type { HttpEvent } from '../cassette/schema.js';
import type { Logger } from '../log.js';
import { errorBody } from '../protocol/errors.js';
import { Route, type RouteName } from '../protocol/routes.js';
import { jsonReply, type Reply } from './http-io.js';
import { describeLive, describeRecorded, type RequestShape } from './matcher.js';
import type { ReplayEvent } from './observer.js';
import type { UnmatchedRequest } from './types.js';

const KEPT = 10_000;

/** What the log needs of a live request. */
export interface MissedRequest {
  method: string;
  path: string;
  route: RouteName;
}

export type Report = (event: DistributiveOmit<ReplayEvent, 'at'>) => void;

export class MismatchLog {
  private readonly kept: UnmatchedRequest[] = [];
  private total = 0;

  constructor(
    private readonly logger: Logger,
    /** How to make a cassette that answers it, e.g. the record command. */
    readonly hint: string,
    private readonly report: Report,
  ) {}

  get count(): number {
    return this.total;
  }

  requests(): UnmatchedRequest[] {
    return [...this.kept];
  }

  /** A request no recorded one matched: noted, and the reply the client gets. */
  request(
    live: MissedRequest,
    status: number,
    reason: string,
    expected: HttpEvent | null,
    shape: RequestShape,
    session: number | null,
  ): Reply {
    const line = expected ? describeRecorded(expected).line : null;
    const received = describeLive(live.method, live.path, live.route, shape);
    const expectedJson = expected ? describeRecorded(expected).json : null;
    this.note({ method: live.method, path: live.path, route: live.route, reason, expected: line, at: new Date().toISOString() });
    this.report({ kind: 'mismatch', session, ...live, status, reason, received, expected: expectedJson, recorded: expected });
    this.logger.warn(
      { ...live, status, reason, expected: line, received: shape.summary ?? null, hint: this.hint },
      'replay mismatch: no recorded request matches',
    );
    const message = `No recorded request matches ${live.method} ${live.path} (${live.route}): ${reason}`;
    // `expected`: the next recorded request of that route, or null when there is none (no session, queue used up).
    return jsonReply(status, errorBody('ReplayMismatch', message, { replay: { received, expected: expectedJson, hint: this.hint } }));
  }

  /** A stream upgrade the cassette has nothing for: noted, and the HTTP refusal the client gets. */
  upgrade(path: string, status: number, reason: string): Reply {
    const received = { method: 'GET', path, route: Route.stream };
    this.note({ ...received, reason, expected: null, at: new Date().toISOString() });
    this.report({ kind: 'mismatch', session: null, ...received, status, reason, received, expected: null, recorded: null });
    this.logger.warn({ ...received, status, reason }, 'replay mismatch: stream upgrade refused');
    const message = `No recorded stream matches ${path}: ${reason}`;
    return jsonReply(status, errorBody('ReplayMismatch', message, { replay: { received, expected: null, hint: this.hint } }));
  }

  /** An attachment handed out but never fetched while recording. */
  attachment(live: MissedRequest, status: number, reason: string): Reply {
    this.request(live, status, reason, null, {}, null);
    const hint =
      'to record an attachment, fetch its contentUrl through the recorder while recording (e.g. open or download it in the ' +
      `chat); ${this.hint}`;
    return jsonReply(
      status,
      errorBody('ReplayMismatch', `The attachment ${live.path} was not recorded: ${reason}`, {
        replay: { received: describeLive(live.method, live.path, live.route, {}), expected: null, hint },
      }),
    );
  }

  private note(u: UnmatchedRequest): void {
    this.total++;
    if (this.kept.length < KEPT) this.kept.push(u);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
