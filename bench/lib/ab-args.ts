// The command line of the A/B tools (bench/tools/ab-*.ts): numeric options given as `--name N` (with their
// defaults), boolean flags given as `--name`, and everything else a variant, in order.
export function abArgs<N extends Record<string, number>, F extends string = never>(
  argv: string[],
  numbers: N,
  flags: readonly F[] = [],
): N & Record<F, boolean> & { variants: string[] } {
  const out: Record<string, number | boolean | string[]> = { ...numbers, variants: [] };
  for (const f of flags) out[f] = false;
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    if (name !== null && name in numbers) out[name] = Number(argv[++i]);
    else if (name !== null && (flags as readonly string[]).includes(name)) out[name] = true;
    else (out.variants as string[]).push(argv[i]);
  }
  return out as N & Record<F, boolean> & { variants: string[] };
}
