// The published JSON Schema of the cassette format, derived from the zod schema so the two never drift.
import { z } from 'zod';
import { CassetteSchema } from './schema.js';

export function cassetteJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(CassetteSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    title: 'directline-vcr cassette',
    description: 'A recorded Direct Line 3.0 session: HTTP exchanges and WebSocket frames on one timeline.',
    ...schema,
  };
}
