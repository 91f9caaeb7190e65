// The directline-vcr command line: one yargs command per module, each with its own --help.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { recordCommand } from './record.js';
import { replayCommand } from './replay.js';
import { inspectCommand } from './inspect.js';
import { exportCommand } from './export.js';
import { scanCommand } from './scan.js';
import diffCommand from './diff.js';
import verifyCommand from './verify.js';

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('directline-vcr')
    .usage('$0 <command> [options]\n\nRecord and replay Bot Framework Direct Line 3.0 traffic (HTTP and WebSocket).')
    .command(recordCommand)
    .command(replayCommand)
    .command(inspectCommand)
    .command(exportCommand)
    .command(scanCommand)
    .command(diffCommand)
    .command(verifyCommand)
    .demandCommand(1, 'Name a command (see the list above).')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Docs: README.md. Every command has --help.')
    .parseAsync();
}

await main(hideBin(process.argv));
