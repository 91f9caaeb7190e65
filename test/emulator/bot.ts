// The scripted bot behind the emulated channel: turns BotReplyStep lists into bot activities, timed.
import { BOT_ID } from './auth.js';
import type { Activity, ChannelAccount, Conversation } from './conversations.js';
import type { BotChanges, BotReplyStep, BotScript } from './types.js';

export const BOT_ACCOUNT: ChannelAccount = { id: BOT_ID, name: 'Emulator Bot', role: 'bot' };

export const DEFAULT_POST_DELAY_MS = 20;

export function defaultWelcome(): BotReplyStep[] {
  return [{ type: 'message', text: 'Welcome to the emulator bot!' }];
}

/** The answer the livestreaming reply ('stream') builds up, word by word. */
export const LIVESTREAM_TEXT = [
  'Replay keeps every chunk of this livestream in order and at its recorded pace,',
  'so the answer grows word by word until the final message.',
].join(' ');
/** Interim activities of that livestream. */
export const LIVESTREAM_CHUNKS = 20;

/** Gap before interim chunk i (0-based) and before the final message: 50–80 ms, varied but fixed. */
export function livestreamGapMs(i: number): number {
  return 50 + ((i * 37) % 31);
}

/**
 * An LLM-style livestream: LIVESTREAM_CHUNKS typing activities whose text grows (each a longer prefix of
 * LIVESTREAM_TEXT, whole words), then the final message with the whole text.
 */
export function livestreamReply(): BotReplyStep[] {
  const words = LIVESTREAM_TEXT.split(' ');
  const steps: BotReplyStep[] = [];
  for (let i = 0; i < LIVESTREAM_CHUNKS; i++) {
    const count = Math.max(1, Math.floor(((i + 1) * (words.length - 1)) / LIVESTREAM_CHUNKS));
    steps.push({ type: 'typing', livestream: 'streaming', text: words.slice(0, count).join(' '), delayMs: livestreamGapMs(i) });
  }
  steps.push({ type: 'message', livestream: 'final', text: LIVESTREAM_TEXT, delayMs: livestreamGapMs(LIVESTREAM_CHUNKS) });
  return steps;
}

export function defaultReply(userActivity: Activity): BotReplyStep[] {
  if (userActivity?.type !== 'message') return [];
  const text = typeof userActivity.text === 'string' ? userActivity.text.trim() : '';
  const attachments = Array.isArray(userActivity.attachments) ? userActivity.attachments.length : 0;
  // Typing first, like a bot that "thinks": it reaches WS clients only (reference §2.6).
  const typing: BotReplyStep = { type: 'typing' };
  if (attachments > 0) {
    return [typing, { type: 'message', text: `Received ${attachments} attachment(s)`, delayMs: 150 }];
  }
  const burst = /^burst\s+(\d+)/i.exec(text);
  if (burst) {
    const n = Math.min(Number(burst[1]), 1000);
    const steps: BotReplyStep[] = [typing];
    for (let i = 1; i <= n; i++) steps.push({ type: 'message', text: `burst ${i}/${n}`, delayMs: 5 });
    return steps;
  }
  if (text === 'end') return [{ type: 'endOfConversation' }];
  if (text === 'stream') return livestreamReply();
  if (text === 'slow') return [typing, { type: 'message', text: 'You said: slow', delayMs: 600 }];
  return [typing, { type: 'message', text: `You said: ${text}`, delayMs: 150 }];
}

/**
 * A bot like the default one but changed per test (a bot "that changed" since a recording): answers by
 * the user's message text, replaced, one message fewer, or failing. Messages not named answer as
 * defaultReply does; with no changes it is the default bot.
 */
export function changedBot(changes: BotChanges = {}): BotScript {
  const script: BotScript = {
    reply: (userActivity: Activity) => {
      const text = typeof userActivity?.text === 'string' ? userActivity.text.trim() : '';
      if (changes.failOn?.includes(text)) throw new Error(`the bot fails on ${JSON.stringify(text)}`);
      const replaced = changes.replies && Object.hasOwn(changes.replies, text) ? changes.replies[text] : undefined;
      const steps = replaced ?? defaultReply(userActivity);
      if (!changes.fewerOn?.includes(text)) return steps;
      // One message fewer: the last message step goes.
      const last = steps.map((s) => s.type ?? 'message').lastIndexOf('message');
      return last < 0 ? steps : steps.filter((_, i) => i !== last);
    },
  };
  if (changes.welcome) script.welcome = changes.welcome;
  if (changes.postDelayMs !== undefined) script.postDelayMs = changes.postDelayMs;
  return script;
}

/** Runs scripts against conversations; owns every pending timer so close() can cancel them. */
export class Bot {
  private readonly timers = new Set<NodeJS.Timeout>();
  private disposed = false;

  constructor(private readonly script: BotScript = {}) {}

  get postDelayMs(): number {
    return this.script.postDelayMs ?? DEFAULT_POST_DELAY_MS;
  }

  /** The service sends the bot a conversationUpdate on start (never shown to clients, §1.6); the bot answers with its welcome. */
  welcome(conversation: Conversation): void {
    const steps = this.script.welcome ?? defaultWelcome();
    this.play(conversation, steps, conversation.user ? { ...conversation.user, role: 'user' } : undefined, undefined);
  }

  /** Called synchronously with the POST (§1.3 (5)); replies go out on their own schedule. */
  reply(conversation: Conversation, userActivity: Activity): void {
    const steps = (this.script.reply ?? defaultReply)(userActivity) ?? [];
    this.play(conversation, steps, userActivity.from as ChannelAccount | undefined, userActivity.id as string);
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private play(
    conversation: Conversation,
    steps: BotReplyStep[],
    recipient: ChannelAccount | undefined,
    replyToId: string | undefined,
  ): void {
    let index = 0;
    // The open livestream: its id is the id the service gave its first activity, which the bot learns back.
    let stream: { id: string; sequence: number } | null = null;
    // Each delay counts from the previous step, so steps are chained rather than scheduled up front.
    const next = (): void => {
      if (this.disposed || index >= steps.length) return;
      const step = steps[index++]!;
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          if (this.disposed) return;
          const activity = botActivity(step, recipient, replyToId);
          if (step.livestream) {
            const sequence = (stream?.sequence ?? 0) + 1;
            activity.channelData = {
              ...(step.channelData as object | undefined),
              streamType: step.livestream,
              ...(step.livestream === 'final' ? {} : { streamSequence: sequence }),
              ...(stream ? { streamId: stream.id } : {}),
            };
            const added = conversation.add(activity);
            stream = step.livestream === 'final' ? null : { id: stream?.id ?? (added.activity.id as string), sequence };
          } else {
            conversation.add(activity);
          }
          next();
        },
        Math.max(0, step.delayMs ?? 0),
      );
      this.timers.add(timer);
    };
    next();
  }
}

function botActivity(step: BotReplyStep, recipient: ChannelAccount | undefined, replyToId: string | undefined): Activity {
  const activity: Activity = { type: step.type ?? 'message', from: { ...BOT_ACCOUNT } };
  if (recipient) activity.recipient = recipient;
  if (replyToId) activity.replyToId = replyToId;
  if (step.text !== undefined) activity.text = step.text;
  if (step.attachments !== undefined) activity.attachments = step.attachments;
  if (step.suggestedActions !== undefined) activity.suggestedActions = step.suggestedActions;
  if (step.channelData !== undefined) activity.channelData = step.channelData;
  if (step.speak !== undefined) activity.speak = step.speak;
  if (step.inputHint !== undefined) activity.inputHint = step.inputHint;
  if (step.value !== undefined) activity.value = step.value;
  return activity;
}
