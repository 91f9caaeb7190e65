// The load runner from the command line, for a run at full size by hand (the test runs it small):
//   npx tsx examples/load/run.ts --domain http://127.0.0.1:4978/v3/directline --conversations 1000 --concurrency 200 --mode mixed
// Prints the report (conversations/s, start/turn/conversation latencies, failures) as JSON; exits 1 when
// a conversation was not whole.
import { parseArgs } from 'node:util';
import { runLoad, type LoadMode } from 'directline-vcr';

const { values } = parseArgs({
  options: {
    domain: { type: 'string', default: 'http://127.0.0.1:4978/v3/directline' },
    cassette: { type: 'string', default: 'recordings/demo.json' },
    conversations: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '50' },
    mode: { type: 'string', default: 'mixed' },
    'refresh-token': { type: 'boolean', default: false },
    'deadline-s': { type: 'string', default: '600' },
  },
});
if (!['websocket', 'polling', 'mixed'].includes(values.mode))
  throw new Error(`--mode must be websocket, polling or mixed, got ${values.mode}`);
const report = await runLoad({
  domain: values.domain,
  cassette: values.cassette,
  conversations: Number(values.conversations),
  concurrency: Number(values.concurrency),
  mode: values.mode as LoadMode,
  refreshToken: values['refresh-token'],
  deadlineMs: Number(values['deadline-s']) * 1000,
});
console.log(JSON.stringify(report, null, 2));
process.exit(report.conversations.failed === 0 && report.conversations.notStarted === 0 ? 0 : 1);
