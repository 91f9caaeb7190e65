// The cassette format, defined once: TypeScript types are inferred from these schemas,
// loading validates against them, and schema/cassette.schema.json is generated from them.
import { z } from 'zod';
import { ROUTE_NAMES } from '../protocol/routes.js';

export const CASSETTE_VERSION = 1 as const;

/** A body as it crossed the wire: JSON stays JSON, text stays text, anything else is base64. */
export const BodySchema = z
  .union([z.object({ json: z.unknown() }).strict(), z.object({ text: z.string() }).strict(), z.object({ base64: z.string() }).strict()])
  .nullable()
  .describe('Message body: {json}, {text} or {base64}; null when empty');

const HeadersSchema = z.record(z.string(), z.string()).describe('Chosen headers, lower-case names');
const QuerySchema = z.record(z.string(), z.string()).describe('Query parameters (first value of each)');

/** Set on an event the client saw because directline-vcr injected a fault (src/faults/), not because of the upstream. */
export const FaultNoteSchema = z
  .object({
    rule: z.string().describe('The fault rule, e.g. status=429@route=activities.post,nth=2'),
    delay: z.number().nonnegative().optional().describe('Milliseconds the fault added before the client got this'),
  })
  .strict()
  .describe('An injected fault: the client saw this, the upstream did not send it');

const EventBase = {
  t: z.number().nonnegative().describe('Milliseconds since the cassette started'),
  conversationId: z.string().nullable().describe('The Direct Line conversation this event belongs to, when known'),
};

export const HttpRequestSchema = z
  .object({
    method: z.string(),
    path: z.string().describe('Full request path, without the query'),
    query: QuerySchema,
    headers: HeadersSchema,
    body: BodySchema,
  })
  .strict();

export const HttpResponseSchema = z
  .object({
    status: z.number().int().min(100).max(599),
    headers: HeadersSchema,
    body: BodySchema,
  })
  .strict();

export const HttpEventSchema = z
  .object({
    type: z.literal('http'),
    ...EventBase,
    route: z.enum(ROUTE_NAMES).describe('Direct Line operation (the route table in src/protocol/routes.ts)'),
    request: HttpRequestSchema,
    response: HttpResponseSchema.nullable().describe('null when the upstream could not be reached'),
    error: z.object({ code: z.string(), message: z.string() }).strict().optional(),
    duration: z.number().nonnegative().describe('Milliseconds from request to complete response'),
    fault: FaultNoteSchema.optional(),
  })
  .strict();

export const WsOpenEventSchema = z
  .object({
    type: z.literal('ws.open'),
    ...EventBase,
    socket: z.number().int().nonnegative().describe('Socket number, unique in the cassette'),
    path: z.string(),
    query: QuerySchema,
    status: z.number().int().describe('Upstream handshake status: 101 when the stream opened'),
    response: HttpResponseSchema.optional().describe('The upstream refusal, when the handshake failed'),
    fault: FaultNoteSchema.optional(),
  })
  .strict();

export const WsMessageEventSchema = z
  .object({
    type: z.literal('ws.message'),
    ...EventBase,
    socket: z.number().int().nonnegative(),
    from: z.enum(['server', 'client']).describe('server = upstream to client, client = client to upstream'),
    data: z.union([
      z
        .object({ json: z.unknown(), text: z.string().optional().describe('exact text, kept only when it differs from compact JSON') })
        .strict(),
      z.object({ text: z.string() }).strict(),
      z.object({ base64: z.string() }).strict(),
    ]),
  })
  .strict();

export const WsCloseEventSchema = z
  .object({
    type: z.literal('ws.close'),
    ...EventBase,
    socket: z.number().int().nonnegative(),
    by: z.enum(['server', 'client', 'proxy']).describe('Who closed: the upstream, the client, or the recorder itself (e.g. on shutdown)'),
    code: z.number().int(),
    reason: z.string(),
    fault: FaultNoteSchema.optional(),
  })
  .strict();

export const CassetteEventSchema = z.discriminatedUnion('type', [
  HttpEventSchema,
  WsOpenEventSchema,
  WsMessageEventSchema,
  WsCloseEventSchema,
]);

export const CassetteSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(CASSETTE_VERSION),
    tool: z.object({ name: z.string(), version: z.string() }).strict(),
    createdAt: z.string(),
    source: z
      .object({
        kind: z.literal('import'),
        from: z.enum(['transcript', 'chat', 'script']),
        file: z.string().describe('Name of the imported file'),
      })
      .strict()
      .optional()
      .describe('Set when the cassette was built by `directline-vcr import` instead of recorded'),
    upstream: z
      .object({
        origin: z.string().describe('Scheme, host and port of the recorded upstream'),
        basePath: z.string().describe('Path prefix the upstream served, e.g. /v3/directline'),
      })
      .strict(),
    redaction: z
      .object({
        placeholders: z.record(z.string(), z.string()).describe('placeholder -> kind (secret, token, streamToken, custom)'),
      })
      .strict(),
    events: z.array(CassetteEventSchema),
  })
  .strict();

export type Body = z.infer<typeof BodySchema>;
export type HttpRequest = z.infer<typeof HttpRequestSchema>;
export type HttpResponse = z.infer<typeof HttpResponseSchema>;
export type HttpEvent = z.infer<typeof HttpEventSchema>;
export type WsOpenEvent = z.infer<typeof WsOpenEventSchema>;
export type WsMessageEvent = z.infer<typeof WsMessageEventSchema>;
export type WsCloseEvent = z.infer<typeof WsCloseEventSchema>;
export type CassetteEvent = z.infer<typeof CassetteEventSchema>;
export type Cassette = z.infer<typeof CassetteSchema>;
export type FrameData = WsMessageEvent['data'];
export type FaultNote = z.infer<typeof FaultNoteSchema>;
export type CassetteSource = NonNullable<Cassette['source']>;
