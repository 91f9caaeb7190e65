// `directline-vcr scan`: finds anything in cassettes that still looks like a secret. Exit 1 on
// findings, so it works as a pre-commit hook and a CI step.
import { formatFindings, scanFiles } from '../scan/scan.js';
import { defineCommand } from './command.js';

export default defineCommand({
  command: 'scan <files..>',
  describe:
    'Report secrets left in cassettes (Direct Line secrets, JWTs, bearer values, t= parameters, custom patterns); exits 1 on findings',
  positionals: {
    files: { type: 'string', array: true, demandOption: true, describe: 'Cassette files (any JSON or text file works)' },
  },
  options: {
    pattern: { type: 'string', array: true, default: [] as string[], describe: 'Extra regular expression to report' },
    json: { type: 'boolean', default: false, describe: 'Findings as JSON' },
  },
  examples: [['$0 scan recordings/*.json', 'check every shipped cassette']],
  handler: async (args) => {
    const patterns = args.pattern.map((p) => new RegExp(p, 'g'));
    const { findings, errors } = await scanFiles(args.files, { patterns });
    if (args.json) {
      process.stdout.write(JSON.stringify({ findings, errors }, null, 2) + '\n');
    } else {
      for (const e of errors) process.stderr.write(`${e.file}: ${e.message}\n`);
      if (findings.length) process.stdout.write(formatFindings(findings) + '\n');
      process.stderr.write(`${findings.length} finding(s) in ${args.files.length} file(s)\n`);
    }
    process.exitCode = errors.length ? 2 : findings.length ? 1 : 0;
  },
});
