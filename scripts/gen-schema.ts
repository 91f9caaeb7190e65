// Writes schema/cassette.schema.json from the zod schema (npm run schema). A test checks it is current.
import { writeFileSync } from 'node:fs';
import { cassetteJsonSchema } from '../src/cassette/json-schema.js';

writeFileSync(new URL('../schema/cassette.schema.json', import.meta.url), JSON.stringify(cassetteJsonSchema(), null, 2) + '\n');
