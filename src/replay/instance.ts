// The instance id of one replay process among several behind a reverse proxy (`replay --instance <id>`).
// Every conversation id and token the process mints carries it, so the proxy can send each request of a
// conversation to the process that started it without sticky cookies (Direct Line calls are cross-origin):
//  - conversation ids `<recorded>.<instance>_<n>`: the proxy reads the instance from the path
//    (/v3/directline/conversations/<id>/…); `.`, `_` and `-` keep it a plausible, url-safe conversation id;
//  - tokens (JWT-shaped): an `inst` claim, and a third part `dlvcr-<instance>-<48 hex digits>`, for the
//    proxy to read from `Authorization: Bearer …` (tokens/refresh and a start with a generated token carry
//    no conversation in the path). examples/scale-out/nginx.conf routes on both forms.

/** Like a DNS label (a Kubernetes pod name such as `replay-0` fits): letters, digits, inner hyphens; ≤ 32. */
const INSTANCE_ID = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/** The instance in a live conversation id minted by an instance (the id's last `.<instance>_<n>`). */
const IN_CONVERSATION_ID = /\.([A-Za-z0-9-]{1,32})_[0-9]+$/;

/** The instance in a token minted by an instance (its last part). */
const IN_TOKEN = /\.dlvcr-([A-Za-z0-9-]{1,32})-[0-9a-f]{48}$/;

/** The instance id as given, or an error saying what is wrong with it. */
export function checkInstanceId(id: string): string {
  if (!INSTANCE_ID.test(id)) {
    throw new RangeError(
      `instance must be 1–32 letters, digits or inner hyphens (it goes into conversation ids and tokens), got ${JSON.stringify(id)}`,
    );
  }
  return id;
}

/** The live conversation id of session n over a recorded conversation. */
export function liveConversationId(recordedId: string, n: number, instance: string | undefined): string {
  return instance === undefined ? `${recordedId}_${n}` : `${recordedId}.${instance}_${n}`;
}

/** The instance a live conversation id was minted by, or null. */
export function instanceOfConversationId(id: string): string | null {
  return IN_CONVERSATION_ID.exec(id)?.[1] ?? null;
}

/** The instance a token was minted by, or null. */
export function instanceOfToken(token: string): string | null {
  return IN_TOKEN.exec(token)?.[1] ?? null;
}
