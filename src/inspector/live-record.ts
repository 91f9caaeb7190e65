// The inspector on a running recorder (`record --inspector`): the cassette as captured so far, growing
// with every event the capture hands to the writer (already redacted).
import type { Cassette, CassetteEvent } from '../cassette/schema.js';
import type { Logger } from '../log.js';
import type { CaptureTap } from '../record/capture-tap.js';
import type { WebChatBundle } from '../web/index.js';
import { InspectorData } from './data.js';
import { createInspectorHandler, resolveWebChat, type InspectorHandler } from './handler.js';

export const LIVE_PREFIX = '/_vcr/';

export interface LiveInspectorOptions {
  /** Serve clients that are not on this machine. Default false. */
  allowRemote?: boolean;
  /** Web Chat's bundle; null = not installed (the built-in chat view); default: looked up. */
  bundle?: WebChatBundle | null;
  logger?: Logger;
}

/** An inspector handler for `/_vcr/` that follows `tap`; `start` is the cassette as it stood when recording began. */
export function recordInspector(start: Cassette, name: string, tap: CaptureTap, opts: LiveInspectorOptions = {}): InspectorHandler {
  const bundle = resolveWebChat(opts.bundle);
  // Our own copy of the event list: the writer may drop events it has written, the page still shows them.
  const cassette: Cassette = { ...start, events: [...start.events], redaction: { placeholders: { ...start.redaction.placeholders } } };
  const data = new InspectorData(`recording ${name}`, 'record', Boolean(bundle));
  const ci = data.addCassette(cassette, name, true);
  const unsubscribe = tap.subscribe((event, placeholders) => {
    insertInTimeOrder(cassette.events, event);
    Object.assign(cassette.redaction.placeholders, placeholders);
    data.touch(ci);
  });
  const handler = createInspectorHandler({ data, prefix: LIVE_PREFIX, bundle, logger: opts.logger, allowRemote: opts.allowRemote });
  const close = handler.close;
  handler.close = () => {
    unsubscribe();
    close();
  };
  return handler;
}

/** HTTP exchanges are captured when answered but stamped with their request's time: they may belong earlier. */
function insertInTimeOrder(events: CassetteEvent[], event: CassetteEvent): void {
  let i = events.length;
  while (i > 0 && events[i - 1].t > event.t) i--;
  events.splice(i, 0, event);
}
