// Attachments in the inspector's chat view: URLs on the cassette's upstream point at the inspector itself
// (api/attachment), which answers with the bytes the cassette recorded for that path; the page never
// touches the network (its Content-Security-Policy would refuse it anyway).
import type { Cassette, HttpEvent } from '../cassette/schema.js';
import { readModel } from '../model/index.js';
import { httpOriginOf, mapAttachmentUrls } from '../protocol/attachment-urls.js';
import type { Activity } from '../protocol/types.js';

/** A copy of the activity whose attachment URLs on the recorded upstream lead to the inspector's api/attachment. */
export function localAttachmentUrls(activity: Activity, cassette: Cassette, cassetteIndex: number): Activity {
  const upstream = httpOriginOf(cassette.upstream.origin);
  if (upstream === null || !Array.isArray(activity.attachments)) return activity;
  const copy = structuredClone(activity);
  mapAttachmentUrls(copy, (url) => {
    if (httpOriginOf(url) !== upstream) return url;
    const u = new URL(url);
    return `api/attachment?cassette=${cassetteIndex}&path=${encodeURIComponent(u.pathname)}`;
  });
  return copy;
}

/** The recorded GET of an attachment path (the last successful one, else the last), or undefined. */
export function recordedAttachment(cassette: Cassette, path: string): HttpEvent | undefined {
  let found: HttpEvent | undefined;
  for (const c of readModel(cassette).conversations) {
    for (const x of c.exchanges) {
      if (x.policy.replay !== 'byPath' || x.event.request.path !== path) continue;
      const ok = (e: HttpEvent | undefined) => e?.response !== null && e?.response !== undefined && e.response.status < 300;
      if (!found || !ok(found) || ok(x.event)) found = x.event;
    }
  }
  return found;
}
