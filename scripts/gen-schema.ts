// Writes schema/cassette.schema.json and schema/script.schema.json from their zod schemas (npm run schema).
// Tests check both are current.
import { writeFileSync } from 'node:fs';
import { cassetteJsonSchema } from '../src/cassette/json-schema.js';
import { scriptJsonSchema } from '../src/import/script-schema.js';

writeFileSync(new URL('../schema/cassette.schema.json', import.meta.url), JSON.stringify(cassetteJsonSchema(), null, 2) + '\n');
writeFileSync(new URL('../schema/script.schema.json', import.meta.url), JSON.stringify(scriptJsonSchema(), null, 2) + '\n');
