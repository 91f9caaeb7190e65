// Builds recordings/demo.json (what `npm start` replays) from its script, recordings/demo/demo.yaml, through
// the same path as `directline-vcr import`. A test checks the committed cassette is what this writes.
// Run: npm run build-demo
import { importFile, writeCassetteFile } from '../src/import/index.js';

/** Fixed, so that rebuilding an unchanged script gives the same bytes. */
export const DEMO_CREATED_AT = new Date('2026-12-01T12:00:00.000Z');
export const DEMO_SCRIPT = 'recordings/demo/demo.yaml';
export const DEMO_CASSETTE = 'recordings/demo.json';

if (import.meta.url === `file://${process.argv[1]}`) {
  const cassette = await importFile(DEMO_SCRIPT, { createdAt: DEMO_CREATED_AT });
  await writeCassetteFile(process.argv[2] ?? DEMO_CASSETTE, cassette);
  console.log(`wrote ${process.argv[2] ?? DEMO_CASSETTE} (${cassette.events.length} events) from ${DEMO_SCRIPT}`);
}
