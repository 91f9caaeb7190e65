// One declaration per command: its positionals and flags are written once, as yargs option objects, and
// the handler's argument types are inferred from them by yargs' own types (InferredOptionTypes), so no
// interface repeats the flags. A new command is a file exporting `defineCommand({...})` as its default,
// plus one line in main.ts.
import type { ArgumentsCamelCase, Argv, CommandModule, InferredOptionType, Options, PositionalOptions } from 'yargs';

/** The parsed arguments of a command declared with positionals P and flags O (kebab-case and camelCase keys). */
export type CommandArgs<P extends Record<string, PositionalOptions>, O extends Record<string, Options>> = ArgumentsCamelCase<
  { [K in keyof P]: InferredOptionType<P[K]> } & { [K in keyof O]: InferredOptionType<O[K]> }
>;

/** What main.ts registers: the declaration's types have done their job inside the command's own handler. */
export type Command = CommandModule<object, object>;

export interface CommandSpec<P extends Record<string, PositionalOptions>, O extends Record<string, Options>> {
  /** The yargs command line, e.g. `inspect <cassette>`; each `<name>` in it is declared in `positionals`. */
  command: string;
  describe: string;
  positionals?: P;
  options: O;
  examples?: ReadonlyArray<readonly [command: string, description: string]>;
  epilogue?: string;
  handler: (args: CommandArgs<P, O>) => void | Promise<void>;
}

/**
 * Builds the yargs command module from one declaration. `--no-<flag>` makes yargs give `false` for a string
 * flag; declare such a flag with `coerce: negatable` so its type says so.
 */
export function defineCommand<
  const P extends Record<string, PositionalOptions> = Record<never, PositionalOptions>,
  const O extends Record<string, Options> = Record<never, Options>,
>(spec: CommandSpec<P, O>): Command {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: (y: Argv<object>) => {
      let b: Argv<object> = y;
      for (const [name, opt] of Object.entries(spec.positionals ?? {})) b = b.positional(name, opt);
      b = b.options(spec.options);
      for (const [cmd, description] of spec.examples ?? []) b = b.example(cmd, description);
      if (spec.epilogue) b = b.epilogue(spec.epilogue);
      return b;
    },
    // yargs' types cannot follow a generic declaration through the builder above; the arguments parsed are
    // exactly those declared in P and O, which is what CommandArgs says.
    handler: (args) => spec.handler(args as CommandArgs<P, O>),
  };
}

/** `coerce` for a string flag that also has a `--no-` form: keeps the value, and types it `string | false`. */
export function negatable(value: string | false): string | false {
  return value;
}
