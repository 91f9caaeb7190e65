// A project's recording settings in one JSON file (directline-vcr.config.json): redaction rules and the
// record options people otherwise repeat on every command line. Validated with zod; every problem names
// the file and the key.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { JsonPath, JsonPathError, type RedactionRules } from '../cassette/redact.js';
import type { RecordOptions } from '../record/recorder.js';
import { FaultRuleError, parseFaultRule } from '../faults/rule.js';

/** The name `directline-vcr record` looks for in the current directory when --config is not given. */
export const CONFIG_FILE_NAME = 'directline-vcr.config.json';

export type ConfigMode = 'record' | 'auto' | 'passthrough';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | null,
    readonly problem: string,
  ) {
    super(`${file}: ${key ? `${key}: ` : ''}${problem}`);
    this.name = 'ConfigError';
  }
}

/** A regular expression: its source as a string, or {source, flags} for flags such as "i". */
const PatternSchema = z
  .union([z.string(), z.strictObject({ source: z.string(), flags: z.string().optional() })], {
    error: 'expected a regular expression: a string, or {"source": "...", "flags": "i"}',
  })
  .superRefine((p, ctx) => {
    try {
      toRegExp(p);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${(err as Error).message})` });
    }
  });

const JsonPathSchema = z.string().superRefine((p, ctx) => {
  try {
    JsonPath.parse(p);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: err instanceof JsonPathError ? `not a valid JSON path: ${err.problem}` : (err as Error).message,
    });
  }
});

const FaultRuleSchema = z.string().superRefine((r, ctx) => {
  try {
    parseFaultRule(r);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof FaultRuleError ? err.message : (err as Error).message });
  }
});

const names = (what: string) => z.array(z.string().min(1, `an empty ${what}`));

export const RedactConfigSchema = z.strictObject({
  headers: names('header name').optional().describe('Header names whose values become placeholders'),
  jsonKeys: names('property name')
    .optional()
    .describe('JSON property names (any depth, case-insensitive) whose string values become placeholders'),
  jsonPaths: z.array(JsonPathSchema).optional().describe('JSON paths, e.g. activities[*].channelData.secret, $.value.password, ..apiKey'),
  patterns: z.array(PatternSchema).optional().describe('Regular expressions: every match in a string becomes a placeholder'),
});

export const DiffConfigSchema = z.strictObject({
  ignore: z
    .array(JsonPathSchema)
    .optional()
    .describe('JSON paths `diff` and `verify` leave out, from the activity or from activities[*], e.g. channelData.requestId, ..traceId'),
});

export const VerifyConfigSchema = z.strictObject({
  secret: z
    .string()
    .min(1)
    .optional()
    .describe("The bot's Direct Line secret for `verify` (prefer DIRECTLINE_SECRET; keep a file holding it out of version control)"),
  token: z.string().min(1).optional().describe('A Direct Line token for `verify` instead of a secret (prefer DIRECTLINE_TOKEN)'),
  settle: z.number().nonnegative().optional().describe('Quiet period (ms) after which the bot counts as having answered'),
});

export const ConfigFileSchema = z.strictObject({
  $schema: z.string().optional(),
  upstream: z
    .string()
    .superRefine((u, ctx) => {
      if (!URL.canParse(u) || !['http:', 'https:', 'ws:', 'wss:'].includes(new URL(u).protocol)) {
        ctx.addIssue({ code: 'custom', message: `"${u}" is not an http:// or https:// URL` });
      }
    })
    .optional(),
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  mode: z.enum(['record', 'auto', 'passthrough']).optional(),
  flushInterval: z.number().nonnegative().optional().describe('Longest time (ms) a captured event waits before it is written'),
  redact: RedactConfigSchema.optional(),
  diff: DiffConfigSchema.optional(),
  verify: VerifyConfigSchema.optional(),
  faults: z
    .array(FaultRuleSchema)
    .optional()
    .describe('Fault rules for record and replay, e.g. "drop-stream@frame=3" (README: Rehearsing failures)'),
  seed: z.number().int().optional().describe("Seed of the faults' jitter (default 1)"),
});

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** A config file read and checked, in the API's terms. */
export interface VcrConfig {
  /** Absolute path of the file it came from. */
  file: string;
  mode?: ConfigMode;
  /** Options for startRecorder/startVcr: `startRecorder({ ...config.record, cassette })`. `redact` is always set. */
  record: Pick<RecordOptions, 'upstream' | 'port' | 'host' | 'flushIntervalMs'> & { redact: RedactionRules };
  /** What `diff` and `verify` leave out. `ignore` is always set. */
  diff: { ignore: string[] };
  /** Credentials and waits of `verify`. */
  verify: { secret?: string; token?: string; settleMs?: number };
  /** Fault rules and their seed, for record and replay alike (`startReplayer({ ...config.faults, cassette })`). */
  faults: { faults: string[]; seed?: number };
}

function toRegExp(p: string | { source: string; flags?: string }): RegExp {
  return typeof p === 'string' ? new RegExp(p) : new RegExp(p.source, p.flags ?? '');
}

/** `redact.patterns[1]` */
function formatKey(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

const KNOWN_KEYS: Record<string, string[]> = {
  '': Object.keys(ConfigFileSchema.shape),
  redact: Object.keys(RedactConfigSchema.shape),
  diff: Object.keys(DiffConfigSchema.shape),
  verify: Object.keys(VerifyConfigSchema.shape),
};

/** Checks an already-parsed config object; `file` is only used in messages and VcrConfig.file. */
export function parseConfig(raw: unknown, file = '<config>'): VcrConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, null, `expected a JSON object with any of: ${KNOWN_KEYS['']!.join(', ')}`);
  }
  const parsed = ConfigFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') {
        const parent = formatKey(i.path);
        const known = KNOWN_KEYS[parent];
        return {
          key: i.keys.map((k) => formatKey([...i.path, k])).join(', '),
          problem: `unknown key${i.keys.length > 1 ? 's' : ''}${known ? ` (known: ${known.join(', ')})` : ''}`,
        };
      }
      return { key: formatKey(i.path) || null, problem: i.message };
    });
    const [first, ...rest] = problems;
    const more =
      rest
        .slice(0, 4)
        .map((p) => `; ${p.key ? `${p.key}: ` : ''}${p.problem}`)
        .join('') + (rest.length > 4 ? ` (and ${rest.length - 4} more)` : '');
    throw new ConfigError(file, first!.key, first!.problem + more);
  }
  const c = parsed.data;
  const redact: RedactionRules = {};
  if (c.redact?.headers?.length) redact.headers = c.redact.headers;
  if (c.redact?.jsonKeys?.length) redact.jsonKeys = c.redact.jsonKeys;
  if (c.redact?.jsonPaths?.length) redact.jsonPaths = c.redact.jsonPaths;
  if (c.redact?.patterns?.length) redact.patterns = c.redact.patterns.map(toRegExp);
  const record: VcrConfig['record'] = { redact };
  if (c.upstream !== undefined) record.upstream = c.upstream;
  if (c.port !== undefined) record.port = c.port;
  if (c.host !== undefined) record.host = c.host;
  if (c.flushInterval !== undefined) record.flushIntervalMs = c.flushInterval;
  const verify: VcrConfig['verify'] = {};
  if (c.verify?.secret !== undefined) verify.secret = c.verify.secret;
  if (c.verify?.token !== undefined) verify.token = c.verify.token;
  if (c.verify?.settle !== undefined) verify.settleMs = c.verify.settle;
  const faults: VcrConfig['faults'] = { faults: c.faults ?? [], ...(c.seed !== undefined ? { seed: c.seed } : {}) };
  return { file, ...(c.mode ? { mode: c.mode } : {}), record, diff: { ignore: c.diff?.ignore ?? [] }, verify, faults };
}

/** Reads and checks a config file; every problem is a ConfigError naming the file (and the key). */
export async function loadConfig(file: string): Promise<VcrConfig> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(abs, null, `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(abs, null, `not valid JSON (${(err as Error).message})`);
  }
  return parseConfig(raw, abs);
}

/** `dir`/directline-vcr.config.json when it exists (only that directory, not its parents), else null. */
export function findConfigFile(dir = process.cwd()): string | null {
  const file = join(resolve(dir), CONFIG_FILE_NAME);
  return existsSync(file) ? file : null;
}

/** The union of several rule sets (a config file's and the command line's): each list concatenated. */
export function mergeRedactionRules(...sets: Array<RedactionRules | undefined>): RedactionRules {
  const out: Required<RedactionRules> = { headers: [], jsonKeys: [], jsonPaths: [], patterns: [] };
  for (const r of sets) {
    if (!r) continue;
    out.headers.push(...(r.headers ?? []));
    out.jsonKeys.push(...(r.jsonKeys ?? []));
    out.jsonPaths.push(...(r.jsonPaths ?? []));
    out.patterns.push(...(r.patterns ?? []));
  }
  return out;
}
