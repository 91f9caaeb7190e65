// From a script (YAML or JSON, schema/script.schema.json): turns of `bot:` and `user:` with delays, typing,
// Adaptive Cards, images, suggested actions and livestreamed answers, written by hand for a demo without a bot.
//
//   turns:
//     - bot: { text: Welcome!, suggestedActions: [Hello] }
//     - user: Hello
//     - bot: { typing: 1s, card: card.json }
//     - bot: { stream: { chunks: ["Stream", "ing…"], every: 60ms } }
import type { Cassette } from '../cassette/schema.js';
import type { Activity } from '../protocol/types.js';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ADAPTIVE_CARD, contentTypeOfName, isCardType, isRemote, readBeside, readJsonBeside } from './attachment-files.js';
import { CassetteBuilder } from './cassette-builder.js';
import { ImportError, formatPath } from './import-error.js';
import { streamAnswer } from './livestream.js';
import { durationMs, ScriptSchema, type BotTurn, type Script, type ScriptAttachment, type UserTurn } from './script-schema.js';

export interface ScriptImportOptions {
  createdAt?: Date;
  /** Name put into the cassette's source header (default: the file as given). */
  name?: string;
}

const BOT_DELAY_MS = 600;
const USER_DELAY_MS = 1_500;
const STREAM_EVERY_MS = 60;

type Path = PropertyKey[];

export function importScript(text: string, file: string, opts: ScriptImportOptions = {}): Cassette {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ImportError(file, `not valid YAML/JSON: ${e.message.split('\n')[0]}`, { line: counter.linePos(e.pos[0]).line });
  }
  const lineOf = (path: Path): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const fail = (path: Path, problem: string): never => {
    throw new ImportError(file, problem, { line: lineOf(path), path: formatPath(path) });
  };

  const raw: unknown = doc.toJS();
  const parsed = ScriptSchema.safeParse(raw);
  if (!parsed.success) {
    const { path, message } = explain(parsed.error.issues[0], raw);
    fail(path, message);
  }
  const script = (parsed as { data: Script }).data;
  const builder = new CassetteBuilder({
    source: { kind: 'import', from: 'script', file: opts.name ?? file },
    seed: text,
    createdAt: opts.createdAt,
    bot: script.bot,
    user: script.user,
  });

  script.turns.forEach((turn, i) => {
    if ('delay' in turn) builder.wait(durationMs(turn.delay));
    else if ('user' in turn) userTurn(builder, typeof turn.user === 'string' ? { text: turn.user } : turn.user);
    else botTurn(builder, typeof turn.bot === 'string' ? { text: turn.bot } : turn.bot, file, ['turns', i, 'bot'], fail);
  });
  return builder.build();
}

function userTurn(builder: CassetteBuilder, turn: UserTurn): void {
  const a: Activity = { type: turn.type ?? 'message' };
  if (turn.text !== undefined) a.text = turn.text;
  if (turn.name !== undefined) a.name = turn.name;
  if (turn.value !== undefined) a.value = turn.value;
  builder.userSays(a, { delay: turn.delay === undefined ? USER_DELAY_MS : durationMs(turn.delay) });
}

function botTurn(builder: CassetteBuilder, turn: BotTurn, file: string, at: Path, fail: (path: Path, problem: string) => never): void {
  let delay = turn.delay === undefined ? BOT_DELAY_MS : durationMs(turn.delay);
  if (turn.typing !== undefined) {
    builder.botSays({ type: 'typing' }, { delay });
    delay = durationMs(turn.typing);
  }
  const a: Activity = { type: turn.type ?? 'message' };
  if (turn.text !== undefined) a.text = turn.text;
  for (const k of ['textFormat', 'speak', 'inputHint', 'channelData', 'entities', 'name', 'value', 'attachmentLayout'] as const) {
    if (turn[k] !== undefined) (a as Record<string, unknown>)[k] = structuredClone(turn[k]);
  }
  const attachments: NonNullable<Activity['attachments']> = [];
  if (turn.card !== undefined) attachments.push(cardAttachment(turn.card, file, [...at, 'card'], fail));
  if (turn.image !== undefined) attachments.push(fileAttachment({ file: turn.image }, builder, file, [...at, 'image'], fail));
  for (const [j, att] of (turn.attachments ?? []).entries())
    attachments.push(attachmentOf(att, builder, file, [...at, 'attachments', j], fail));
  if (attachments.length) a.attachments = attachments;
  if (turn.suggestedActions) {
    a.suggestedActions = {
      actions: turn.suggestedActions.map((s) =>
        typeof s === 'string' ? { type: 'imBack', title: s, value: s } : { type: 'imBack', value: s.title, ...s },
      ),
    };
  }
  if (turn.stream) {
    if (a.type !== 'message') fail([...at, 'stream'], 'a livestream ends in a message: leave out type (or use type: message)');
    streamAnswer(
      builder,
      { chunks: turn.stream.chunks, every: turn.stream.every === undefined ? STREAM_EVERY_MS : durationMs(turn.stream.every), delay },
      a,
    );
    return;
  }
  if (a.text === undefined && !a.attachments && !a.suggestedActions && a.type === 'message') {
    fail(at, 'a bot message needs text, stream, card, image, attachments or suggestedActions');
  }
  builder.botSays(a, { delay });
}

function attachmentOf(
  att: ScriptAttachment,
  builder: CassetteBuilder,
  file: string,
  at: Path,
  fail: (path: Path, problem: string) => never,
): NonNullable<Activity['attachments']>[number] {
  if ('card' in att) return cardAttachment(att.card, file, [...at, 'card'], fail);
  if ('file' in att) return fileAttachment(att, builder, file, [...at, 'file'], fail);
  return structuredClone(att) as NonNullable<Activity['attachments']>[number];
}

function cardAttachment(
  card: string | Record<string, unknown>,
  file: string,
  at: Path,
  fail: (path: Path, problem: string) => never,
): { contentType: string; content: unknown } {
  if (typeof card !== 'string') return { contentType: ADAPTIVE_CARD, content: structuredClone(card) };
  let content: unknown;
  try {
    content = readJsonBeside(file, card, {});
  } catch (err) {
    fail(at, (err as ImportError).problem);
  }
  if (!content || typeof content !== 'object' || (content as { type?: unknown }).type !== 'AdaptiveCard') {
    fail(at, `${card} is no Adaptive Card: expected a JSON object with "type": "AdaptiveCard"`);
  }
  return { contentType: ADAPTIVE_CARD, content };
}

function fileAttachment(
  att: { file: string; contentType?: string; name?: string },
  builder: CassetteBuilder,
  file: string,
  at: Path,
  fail: (path: Path, problem: string) => never,
): NonNullable<Activity['attachments']>[number] {
  const contentType = att.contentType ?? contentTypeOfName(att.file);
  if (!contentType) fail(at, `cannot tell the content type of ${JSON.stringify(att.file)} from its extension: give contentType`);
  if (isRemote(att.file)) return { contentType: contentType!, contentUrl: att.file, ...(att.name ? { name: att.name } : {}) };
  if (isCardType(contentType!)) return cardAttachment(att.file, file, at, fail);
  let found: { bytes: Buffer; name: string } | undefined;
  try {
    found = readBeside(file, att.file, {});
  } catch (err) {
    fail(at, (err as ImportError).problem);
  }
  return {
    contentType: contentType!,
    contentUrl: builder.attachmentUrl(found!.bytes, contentType!, found!.name),
    name: att.name ?? found!.name,
  };
}

// ---- schema errors in words ------------------------------------------------------------------------

type Issue = z.core.$ZodIssue;

/** The most telling issue: inside a union, the branch the input was evidently meant to be. */
function explain(issue: Issue, input: unknown, base: Path = []): { path: Path; message: string } {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length) {
    const value = valueAt(input, path);
    const fits = issue.errors.filter((branch) => branch.length > 0 && !branch.some((e) => isRootMismatch(e, value)));
    if (fits.length) return explain(fits[0][0], input, path);
    const keys = new Set<string>();
    const types = new Set<string>();
    for (const branch of issue.errors) {
      for (const e of branch) {
        if (e.path.length === 1 && valueAt(value, e.path) === undefined) keys.add(String(e.path[0]));
        else if (e.code === 'invalid_type' && e.path.length === 0) types.add(e.expected === 'record' ? 'object' : e.expected);
      }
    }
    if (keys.size)
      return {
        path,
        message: `expected an object with one of ${[...keys].map((k) => `"${k}"`).join(', ')}${
          value && typeof value === 'object'
            ? `, found keys ${
                Object.keys(value)
                  .map((k) => `"${k}"`)
                  .join(', ') || 'none'
              }`
            : ''
        }`,
      };
    return { path, message: `expected ${[...types].join(' or ') || 'another value'}, found ${kindOf(value)}` };
  }
  if (issue.code === 'unrecognized_keys')
    return { path: [...path, issue.keys[0]], message: `unknown key ${JSON.stringify(issue.keys[0])}` };
  if (issue.code === 'invalid_type') {
    const value = valueAt(input, path);
    return {
      path,
      message: value === undefined ? `missing: expected ${issue.expected}` : `expected ${issue.expected}, found ${kindOf(value)}`,
    };
  }
  return { path, message: issue.message };
}

/** The branch does not even have the input's shape (wrong type, or keys that belong to another branch). */
function isRootMismatch(e: Issue, value: unknown): boolean {
  if (e.path.length === 0) return e.code === 'invalid_type' || e.code === 'unrecognized_keys';
  return e.path.length === 1 && valueAt(value, e.path) === undefined;
}

function valueAt(v: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = v;
  for (const k of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k as string];
  }
  return cur;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
