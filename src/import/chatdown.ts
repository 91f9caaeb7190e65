// From a chatdown `.chat` file (the Bot Framework's mock-up format): an optional header (`user=Joe`,
// `users=Joe,Susan`, `bot=LulaBot`, `channelId=…`), then `user:` / `bot:` lines (`bot->Joe:` names the
// recipient), whose text runs on until the next speaker, with instructions in brackets: `[Typing]`,
// `[Delay=3000]`, `[Attachment=file.png]`, `[Attachment=card.json adaptivecard]`, `[AttachmentLayout=carousel]`,
// `[Suggestions=a|b|c]`, `[HeroCard=…]` (and the other card kinds) and `[ConversationUpdate=MembersAdded=…]`.
// Lines starting with `>` are comments. Timing follows chatdown: activities 2 s apart unless `[Delay=ms]` says
// otherwise, typing 100 ms after what came before.
//
// Written here rather than taken from @microsoft/bf-chatdown (the reference parser): that package installs
// 199 packages (29 MB: an oclif CLI, axios 0.21, chalk, fs-extra…), sends an HTTP HEAD for URL attachments
// without a content type (no offline guarantee), turns an unknown instruction into message text instead of an
// error, reports no line numbers, embeds images as data: URLs, and keeps its clock and ids in module globals.
import type { Cassette } from '../cassette/schema.js';
import type { Activity, ChannelAccount } from '../protocol/types.js';
import { ADAPTIVE_CARD, CARD_SHORTHANDS, contentTypeOfName, isCardType, isRemote, readBeside, readJsonBeside } from './attachment-files.js';
import { CassetteBuilder } from './cassette-builder.js';
import { ImportError } from './import-error.js';

export interface ChatImportOptions {
  createdAt?: Date;
  /** Name put into the cassette's source header (default: the file as given). */
  name?: string;
}

/** Chatdown's gap between activities and after a typing indicator. */
const MESSAGE_GAP_MS = 2_000;
const TYPING_GAP_MS = 100;

const CARD_COMMANDS: Record<string, string> = {
  herocard: 'application/vnd.microsoft.card.hero',
  basiccard: 'application/vnd.microsoft.card.hero',
  thumbnailcard: 'application/vnd.microsoft.card.thumbnail',
  animationcard: 'application/vnd.microsoft.card.animation',
  mediacard: 'application/vnd.microsoft.card.media',
  audiocard: 'application/vnd.microsoft.card.audio',
  videocard: 'application/vnd.microsoft.card.video',
  signincard: 'application/vnd.microsoft.card.signin',
  oauthcard: 'application/vnd.microsoft.card.oauth',
};
const KNOWN =
  'Typing, Delay=<ms>, Attachment=<file or URL> [<content type>], AttachmentLayout=carousel|list, Suggestions=<a>|<b>, ' +
  'HeroCard=…, ThumbnailCard=…, ConversationUpdate=MembersAdded=<names>';

interface Line {
  text: string;
  n: number;
}
interface Speaker {
  account: ChannelAccount;
  role: 'user' | 'bot';
  recipient: ChannelAccount | undefined;
  line: number;
}

export function importChat(text: string, file: string, opts: ChatImportOptions = {}): Cassette {
  const lines: Line[] = text.split(/\r?\n/).map((t, i) => ({ text: t, n: i + 1 }));
  const fail = (line: number, problem: string): never => {
    throw new ImportError(file, problem, { line });
  };

  // Header.
  let users: string[] = [];
  let botName = 'bot';
  let channelId: string | undefined;
  let i = 0;
  for (; i < lines.length; i++) {
    const { text: t, n } = lines[i];
    if (t.startsWith('>')) continue;
    const m = /^(bot|users|user|channelId)\s*=(.*)$/i.exec(t.trim());
    if (!m) break;
    const value = m[2].trim();
    if (value === '' || value.includes('='))
      fail(n, `malformed header option: expected ${m[1]}=<value>, found ${JSON.stringify(t.trim())}`);
    const key = m[1].toLowerCase();
    if (key === 'bot') botName = value;
    else if (key === 'channelid') channelId = value;
    else
      users = value
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
  }
  if (users.length === 0) users = ['user'];
  const accounts = new Map<string, { account: ChannelAccount; role: 'user' | 'bot' }>();
  const bot: ChannelAccount = { id: botName, name: botName, role: 'bot' };
  accounts.set(botName.toLowerCase(), { account: bot, role: 'bot' });
  accounts.set('bot', { account: bot, role: 'bot' });
  for (const u of users) accounts.set(u.toLowerCase(), { account: { id: u, name: u, role: 'user' }, role: 'user' });
  if (!accounts.has('user')) accounts.set('user', accounts.get(users[0].toLowerCase())!);
  const names = [...accounts.keys()]
    .map(escapeRegExp)
    .sort((a, b) => b.length - a.length)
    .join('|');
  const speakerLine = new RegExp(`^(${names})(?:->(${names}))?:`, 'i');

  const builder = new CassetteBuilder({
    source: { kind: 'import', from: 'chat', file: opts.name ?? file },
    seed: text,
    createdAt: opts.createdAt,
    bot,
    user: accounts.get(users[0].toLowerCase())!.account,
  });

  // Messages: a speaker line and the lines up to the next one.
  let current: { speaker: Speaker; body: Line[] } | null = null;
  let lastUser = accounts.get(users[0].toLowerCase())!.account;
  let first = true;
  const flush = () => {
    if (!current) return;
    emitMessage(current.speaker, current.body, { builder, file, channelId, accounts, first });
    first = false;
  };
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line.text.startsWith('>')) continue;
    const m = speakerLine.exec(line.text);
    if (!m) {
      if (current) current.body.push(line);
      else if (line.text.trim() !== '')
        fail(
          line.n,
          'expected a speaker line such as "user: Hello" or "bot: Hi" (speakers: ' +
            `${[...new Set([botName, 'bot', 'user', ...users])].join(', ')}), found ${JSON.stringify(clip(line.text))}`,
        );
      continue;
    }
    flush();
    const from = accounts.get(m[1].toLowerCase())!;
    const named = m[2] ? accounts.get(m[2].toLowerCase())!.account : undefined;
    const recipient = named ?? (from.role === 'bot' ? lastUser : bot);
    if (from.role === 'user') lastUser = from.account;
    current = {
      speaker: { account: from.account, role: from.role, recipient, line: line.n },
      body: [{ text: line.text.slice(m[0].length), n: line.n }],
    };
  }
  flush();
  if (first) fail(lines.length, 'the file has no messages: expected "user: …" and "bot: …" lines');
  return builder.build();
}

interface EmitContext {
  builder: CassetteBuilder;
  file: string;
  channelId: string | undefined;
  accounts: Map<string, { account: ChannelAccount; role: 'user' | 'bot' }>;
  first: boolean;
}

/** One speaker's turn: its text, typing indicators and instructions become activities in order. */
function emitMessage(speaker: Speaker, body: Line[], ctx: EmitContext): void {
  new MessageEmitter(speaker, body, ctx).run();
}

/** The state of one turn while its text is read: the activity being built, its text and delay so far. */
class MessageEmitter {
  private readonly joined: string;
  /** Offset in `joined` where each body line starts. */
  private readonly starts: number[] = [];
  private activity: Activity;
  private text = '';
  private delay: number | undefined;
  private gapBefore: number;

  constructor(
    private readonly speaker: Speaker,
    private readonly body: Line[],
    private readonly ctx: EmitContext,
  ) {
    this.joined = body.map((l) => l.text).join('\n');
    let offset = 0;
    for (const l of body) {
      this.starts.push(offset);
      offset += l.text.length + 1;
    }
    this.activity = this.fresh();
    this.gapBefore = ctx.first ? 0 : MESSAGE_GAP_MS;
  }

  /** Reads the turn: plain text accumulates, `[Instruction=…]` acts (not `[1]`, `[text](url)`). */
  run(): void {
    const joined = this.joined;
    let pos = 0;
    while (pos < joined.length) {
      const open = joined.indexOf('[', pos);
      if (open < 0) {
        this.text += joined.slice(pos);
        break;
      }
      this.text += joined.slice(pos, open);
      const close = joined.indexOf(']', open);
      const head = /^\[\s*([A-Za-z]+)\s*(=|\])/.exec(joined.slice(open));
      if (close < 0) {
        const word = /^\[\s*([A-Za-z]+)/.exec(joined.slice(open))?.[1];
        if (word && isInstruction(word)) this.fail(open, `unclosed instruction: "[${word}" has no closing "]"`);
        this.text += joined.slice(open);
        break;
      }
      // Not an instruction: "[1]", "[see below]", a Markdown link "[text](url)".
      if (!head || joined[close + 1] === '(') {
        this.text += joined.slice(open, close + 1);
        pos = close + 1;
        continue;
      }
      this.instruction(head[1], joined.slice(open + 1, close), open);
      pos = close + 1;
    }
    this.emitPending(joined.length);
  }

  private instruction(word: string, inner: string, at: number): void {
    const { builder, file } = this.ctx;
    const name = word.toLowerCase();
    const eq = inner.indexOf('=');
    const value = eq < 0 ? '' : inner.slice(eq + 1).trim();
    switch (name) {
      case 'typing':
        this.emitPending(at);
        if (this.speaker.role !== 'bot') this.fail(at, '[Typing] is a bot instruction: the user side types live');
        builder.botSays({ ...this.fresh(), type: 'typing' }, { delay: this.ctx.first && this.gapBefore === 0 ? 0 : TYPING_GAP_MS });
        this.gapBefore = MESSAGE_GAP_MS;
        return;
      case 'delay': {
        const ms = Number(value);
        if (value === '' || !Number.isFinite(ms) || ms < 0)
          this.fail(at, `[Delay=…] expects milliseconds, e.g. [Delay=3000]; found [${inner.trim()}]`);
        this.delay = ms;
        return;
      }
      case 'attachment':
        (this.activity.attachments ??= []).push(attachmentOf(value, builder, file, this.lineAt(at), inner));
        return;
      case 'attachmentlayout': {
        const layout = value.toLowerCase();
        if (layout !== 'carousel' && layout !== 'list')
          this.fail(at, `[AttachmentLayout=…] expects carousel or list; found [${inner.trim()}]`);
        this.activity.attachmentLayout = layout;
        return;
      }
      case 'suggestions':
      case 'suggestedactions': {
        const titles = value
          .split('|')
          .map((t) => t.trim())
          .filter(Boolean);
        if (titles.length === 0) this.fail(at, '[Suggestions=…] expects one or more titles separated by |, e.g. [Suggestions=Yes|No]');
        this.activity.suggestedActions = { actions: titles.map((t) => ({ type: 'imBack', title: t, value: t })) };
        return;
      }
      case 'conversationupdate':
        this.emitPending(at);
        builder.deliver(
          conversationUpdate(inner.slice(eq + 1), this.ctx, (problem) => this.fail(at, problem)),
          { delay: TYPING_GAP_MS },
        );
        return;
      default: {
        const cardType = CARD_COMMANDS[name];
        if (!cardType) this.fail(at, `unknown instruction [${word}${eq >= 0 ? '=…' : ''}]; chatdown allows ${KNOWN}`);
        const failInCard = (offsetInCard: number, problem: string) => this.fail(at + 1 + eq + 1 + offsetInCard, problem);
        (this.activity.attachments ??= []).push({ contentType: cardType, content: cardOf(inner.slice(eq + 1), builder, file, failInCard) });
      }
    }
  }

  /** The activity built so far goes out (when it has anything), after its delay or the gap between messages. */
  private emitPending(at: number): void {
    const t = this.text.trim();
    const a = this.activity;
    const has = t !== '' || (a.attachments?.length ?? 0) > 0 || (a.suggestedActions as { actions: unknown[] } | undefined)?.actions.length;
    if (has) {
      if (t !== '') a.text = t;
      this.say(a, this.delay ?? this.gapBefore, at);
      this.gapBefore = MESSAGE_GAP_MS;
    }
    this.activity = this.fresh();
    this.text = '';
    this.delay = undefined;
  }

  private say(a: Activity, gap: number, at: number): void {
    if (this.ctx.channelId) a.channelId = this.ctx.channelId;
    if (this.speaker.role === 'bot') {
      this.ctx.builder.botSays(a, { delay: gap });
      return;
    }
    if (a.attachments?.length)
      this.fail(
        at,
        'attachments from the user cannot be imported: a Direct Line client uploads its files itself (give the attachment to ' +
          'the bot, or describe the upload in text)',
      );
    this.ctx.builder.userSays(a, { delay: gap });
  }

  private fresh(): Activity {
    const { account, recipient } = this.speaker;
    return { type: 'message', from: { ...account }, ...(recipient ? { recipient: { ...recipient } } : {}) };
  }

  private lineAt(pos: number): number {
    let k = 0;
    while (k + 1 < this.starts.length && this.starts[k + 1] <= pos) k++;
    return this.body[k].n;
  }

  private fail(pos: number, problem: string): never {
    throw new ImportError(this.ctx.file, problem, { line: this.lineAt(pos) });
  }
}

const INSTRUCTIONS = new Set([
  'typing',
  'delay',
  'attachment',
  'attachmentlayout',
  'suggestions',
  'suggestedactions',
  'conversationupdate',
]);

function isInstruction(word: string): boolean {
  const w = word.toLowerCase();
  return INSTRUCTIONS.has(w) || w in CARD_COMMANDS;
}

function attachmentOf(
  value: string,
  builder: CassetteBuilder,
  file: string,
  line: number,
  inner: string,
): NonNullable<Activity['attachments']>[number] {
  const parts = value.split(/\s+/).filter(Boolean);
  if (parts.length === 0 || parts.length > 2) {
    throw new ImportError(
      file,
      '[Attachment=…] expects a file or URL and optionally a content type, e.g. [Attachment=card.json adaptivecard]; found ' +
        `[${inner.trim()}]`,
      { line },
    );
  }
  const [ref, given] = parts;
  const contentType = given ? (CARD_SHORTHANDS[given.toLowerCase()] ?? given.toLowerCase()) : contentTypeOfName(ref);
  if (isRemote(ref)) {
    // Left as the URL it is (never fetched while importing: an import works offline).
    if (!contentType)
      throw new ImportError(
        file,
        `[Attachment=${ref}] needs a content type: the URL's extension does not say one (e.g. [Attachment=${ref} image/png])`,
        { line },
      );
    return { contentType, contentUrl: ref };
  }
  if (!contentType)
    throw new ImportError(
      file,
      `[Attachment=${ref}] needs a content type: the file's extension does not say one (e.g. [Attachment=${ref} image/png])`,
      { line },
    );
  if (isCardType(contentType) || contentType === ADAPTIVE_CARD || contentType.endsWith('json')) {
    return { contentType, content: readJsonBeside(file, ref, { line }) };
  }
  const { bytes, name } = readBeside(file, ref, { line });
  return { contentType, contentUrl: builder.attachmentUrl(bytes, contentType, name), name };
}

/** `title=…`, `subtitle=…`, `text=…`, `image=…`/`images=…`, `media=…`, `buttons=a|b`, … one per line. */
function cardOf(
  body: string,
  builder: CassetteBuilder,
  file: string,
  fail: (offset: number, problem: string) => never,
): Record<string, unknown> {
  const card: Record<string, unknown> = {};
  let offset = 0;
  for (const raw of body.split('\n')) {
    const here = offset;
    offset += raw.length + 1;
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) fail(here, `expected a card property such as title=…, found ${JSON.stringify(clip(line))}`);
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    const url = (v: string) => (isRemote(v) ? v : servedImage(v, builder, file, fail, here));
    switch (key) {
      case 'title':
      case 'subtitle':
      case 'text':
      case 'aspect':
      case 'value':
      case 'connectionname':
        card[key === 'connectionname' ? 'connectionName' : key] = value;
        break;
      case 'image':
      case 'images':
        ((card.images ??= []) as unknown[]).push({ url: url(value) });
        break;
      case 'media':
        ((card.media ??= []) as unknown[]).push({ url: url(value) });
        break;
      case 'buttons':
        card.buttons = value
          .split('|')
          .map((b) => b.trim())
          .filter(Boolean)
          .map((b) => ({ type: 'imBack', title: b, value: b }));
        break;
      case 'autostart':
      case 'shareable':
      case 'autoloop':
        card[key === 'autostart' ? 'autostart' : key === 'shareable' ? 'shareable' : 'autoloop'] = value.toLowerCase() === 'true';
        break;
      default:
        fail(
          here,
          `unknown card property ${JSON.stringify(key)}; cards take title, subtitle, text, image, images, media, buttons, ` +
            'aspect, value, autostart, shareable, autoloop',
        );
    }
  }
  return card;
}

/**
 * A card image given as a file beside the .chat, inlined as a data: URL: replay points attachment URLs
 * (contentUrl, thumbnailUrl) at itself, but a URL inside a card's content is the client's to fetch as it is.
 */
function servedImage(
  ref: string,
  _builder: CassetteBuilder,
  file: string,
  fail: (offset: number, problem: string) => never,
  offset: number,
): string {
  const contentType = contentTypeOfName(ref);
  if (!contentType?.startsWith('image/'))
    fail(offset, `card image ${JSON.stringify(ref)}: expected an http(s) URL or an image file (.png, .jpg, .gif, .svg, .webp)`);
  let found: { bytes: Buffer } | undefined;
  try {
    found = readBeside(file, ref, {});
  } catch (err) {
    fail(offset, (err as ImportError).problem);
  }
  return `data:${contentType};base64,${found!.bytes.toString('base64')}`;
}

function conversationUpdate(body: string, ctx: EmitContext, fail: (problem: string) => never): Activity {
  const activity: Activity = { type: 'conversationUpdate', membersAdded: [], membersRemoved: [] };
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim().toLowerCase() : '';
    const names = line
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const members = names.map((n) => {
      const known = ctx.accounts.get(n.toLowerCase());
      return known ? { id: known.account.id, name: known.account.name } : { id: n, name: n };
    });
    if (key === 'membersadded' || key === 'added') (activity.membersAdded as unknown[]).push(...members);
    else if (key === 'membersremoved' || key === 'removed') (activity.membersRemoved as unknown[]).push(...members);
    else fail(`[ConversationUpdate=…] takes MembersAdded=<names> and MembersRemoved=<names>; found ${JSON.stringify(clip(line))}`);
  }
  return activity;
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
