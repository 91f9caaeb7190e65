// The script format (YAML or JSON), defined once: the importer validates against it and
// schema/script.schema.json is generated from it (npm run schema), for editors.
import { z } from 'zod';

export const DurationSchema = z
  .union([z.number().nonnegative(), z.string().regex(/^\s*\d+(?:\.\d+)?\s*(?:ms|s)\s*$/, 'expected a duration such as 60ms or 1.5s')])
  .describe('Milliseconds, or a string such as "60ms" or "1.5s"');

const AccountSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().optional(),
  })
  .strict();

const ActionSchema = z.union([
  z.string().min(1).describe('An imBack button: the title is the text sent'),
  z
    .object({
      type: z.enum(['imBack', 'postBack', 'messageBack', 'openUrl']).optional().describe('Default imBack'),
      title: z.string().min(1),
      value: z.unknown().optional().describe('Default: the title'),
      text: z.string().optional(),
      displayText: z.string().optional(),
      image: z.string().optional(),
    })
    .strict(),
]);

const CardSchema = z.union([
  z.string().min(1).describe('An Adaptive Card JSON file, relative to the script'),
  z.record(z.string(), z.unknown()).describe('An Adaptive Card, inline'),
]);

export const AttachmentSchema = z
  .union([
    z
      .object({
        file: z.string().min(1).describe('A file beside the script (images are served by replay from the cassette)'),
        contentType: z.string().optional().describe('Default: from the file extension'),
        name: z.string().optional(),
      })
      .strict(),
    z.object({ card: CardSchema }).strict(),
    z
      .object({
        contentType: z.string().min(1),
        content: z.unknown().optional(),
        contentUrl: z.string().optional().describe('A URL, left as it is'),
        thumbnailUrl: z.string().optional(),
        name: z.string().optional(),
      })
      .strict(),
  ])
  .describe('{file}, {card} or a Bot Framework attachment as it is');

export const StreamSchema = z
  .object({
    chunks: z.array(z.string()).min(1).describe('The answer, piece by piece, as an LLM streams it'),
    every: DurationSchema.optional().describe('Between chunks (default 60ms)'),
  })
  .strict()
  .describe('Livestreaming: interim typing activities (streamType streaming) then the final message');

export const BotTurnSchema = z
  .object({
    text: z.string().optional(),
    delay: DurationSchema.optional().describe('Pause before this turn (default 600ms)'),
    typing: DurationSchema.optional().describe('Show the typing indicator this long first'),
    stream: StreamSchema.optional(),
    card: CardSchema.optional().describe('Shorthand for one Adaptive Card attachment'),
    image: z.string().min(1).optional().describe('Shorthand for one image attachment: a file beside the script or an http(s) URL'),
    attachments: z.array(AttachmentSchema).optional(),
    attachmentLayout: z.enum(['list', 'carousel']).optional(),
    suggestedActions: z.array(ActionSchema).min(1).optional(),
    textFormat: z.enum(['markdown', 'plain', 'xml']).optional(),
    speak: z.string().optional(),
    inputHint: z.enum(['acceptingInput', 'expectingInput', 'ignoringInput']).optional(),
    channelData: z.record(z.string(), z.unknown()).optional(),
    entities: z.array(z.record(z.string(), z.unknown())).optional(),
    type: z.enum(['message', 'event', 'typing']).optional().describe('Default message'),
    name: z.string().optional().describe('Event name (type event)'),
    value: z.unknown().optional(),
  })
  .strict();

export const UserTurnSchema = z
  .object({
    text: z.string().optional(),
    delay: DurationSchema.optional().describe('Pause before the user sends it (the live user sends it whenever they like)'),
    type: z.enum(['message', 'event']).optional().describe('Default message'),
    name: z.string().optional().describe('Event name (type event)'),
    value: z.unknown().optional(),
  })
  .strict();

export const TurnSchema = z
  .union([
    z.object({ bot: z.union([z.string(), BotTurnSchema]) }).strict(),
    z.object({ user: z.union([z.string(), UserTurnSchema]) }).strict(),
    z.object({ delay: DurationSchema }).strict(),
  ])
  .describe('{bot: …}, {user: …} or {delay: …}');

export const ScriptSchema = z
  .object({
    $schema: z.string().optional(),
    title: z.string().optional(),
    bot: AccountSchema.optional().describe('The bot account (default id "bot")'),
    user: AccountSchema.optional().describe('The user account (default id "user")'),
    turns: z.array(TurnSchema).min(1),
  })
  .strict();

export type Script = z.infer<typeof ScriptSchema>;
export type BotTurn = z.infer<typeof BotTurnSchema>;
export type UserTurn = z.infer<typeof UserTurnSchema>;
export type ScriptAttachment = z.infer<typeof AttachmentSchema>;
export type Duration = z.infer<typeof DurationSchema>;

export function scriptJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ScriptSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    title: 'directline-vcr conversation script',
    description: 'A conversation written by hand, for `directline-vcr import` to turn into a replayable cassette.',
    ...schema,
  };
}

/** A duration in milliseconds. */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$/.exec(d)!;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}
