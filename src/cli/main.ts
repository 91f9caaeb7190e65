// The directline-vcr command line: one yargs command per module, each with its own --help.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

/** Every command: a module in src/cli/ whose default export is a `defineCommand(...)`; --help lists them in this order. */
const COMMANDS = await Promise.all([
  import('./record.js'),
  import('./replay.js'),
  import('./inspect.js'),
  import('./export.js'),
  import('./scan.js'),
  import('./diff.js'),
  import('./verify.js'),
  import('./import.js'),
]);

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('directline-vcr')
    .usage('$0 <command> [options]\n\nRecord and replay Bot Framework Direct Line 3.0 traffic (HTTP and WebSocket).')
    .command(COMMANDS.map((m) => m.default))
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
