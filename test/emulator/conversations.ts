// Conversation state: the activity log, sequence numbers, watermarks and uploaded files (reference §1.6, §3).
import { randomBytes, randomUUID } from 'node:crypto';
import { HttpError } from './errors.js';

// Activities are free-form JSON; the emulator only touches the fields the service stamps.
export type Activity = Record<string, any>;

export interface ChannelAccount {
  id: string;
  name?: string;
  role?: string;
}

/** One activity as a stream delivers it; typing carries no watermark because it is never stored (§2.2). */
export interface Delivery {
  activity: Activity;
  watermark?: string;
}

export type DeliveryListener = (delivery: Delivery) => void;

export interface StoredFile {
  contentType: string;
  name: string;
  data: Buffer;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** ~22 url-safe characters plus a region suffix, like `FBfS…-us` (§3). */
export function newConversationId(): string {
  const bytes = randomBytes(22);
  let id = '';
  for (const b of bytes) id += ALNUM[b % ALNUM.length];
  return `${id}-us`;
}

/** UTC with 7 fractional digits, e.g. `2026-06-12T12:53:39.4222445Z` (§1.6). */
export function timestamp7(): string {
  const iso = new Date().toISOString(); // …ss.mmmZ
  const subMs = (process.hrtime.bigint() % 10_000n).toString().padStart(4, '0');
  return `${iso.slice(0, -1)}${subMs}Z`;
}

/**
 * Parses a client watermark. `-`, empty or absent mean "none" (§2.1, §6.10) → undefined; the emulator's
 * own watermarks are decimal sequence numbers. Anything else is treated as "none" as well.
 */
export function parseWatermark(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

export class Conversation {
  /** Set by the first POST /conversations; a second start with a token answers 200 (§1.3 (3)). */
  started = false;
  /** The user known from the token or the start body; bot welcomes are addressed to it. */
  user?: ChannelAccount;
  private nextSeq = 0;
  private readonly log: Array<{ seq: number; activity: Activity }> = [];
  private readonly listeners = new Set<DeliveryListener>();

  constructor(readonly id: string) {}

  /**
   * Stamps id `{conversationId}|{7-digit seq}`, timestamp, channelId and conversation (§1.6), stores it
   * unless it is typing (typing is WS-only, §2.6) and hands it to the live stream.
   */
  add(activity: Activity): Delivery {
    const seq = this.nextSeq++;
    const stamped: Activity = {
      ...activity,
      id: `${this.id}|${String(seq).padStart(7, '0')}`,
      timestamp: timestamp7(),
      channelId: 'directline',
      conversation: { id: this.id },
    };
    const stored = stamped.type !== 'typing';
    if (stored) this.log.push({ seq, activity: stamped });
    const delivery: Delivery = stored ? { activity: stamped, watermark: String(seq) } : { activity: stamped };
    for (const listener of [...this.listeners]) listener(delivery);
    return delivery;
  }

  /** Stored activities with a sequence above `after` (undefined = whole retained history). */
  storedAfter(after: number | undefined): Delivery[] {
    return this.log.filter((e) => after === undefined || e.seq > after).map((e) => ({ activity: e.activity, watermark: String(e.seq) }));
  }

  /** Sequence of the newest stored activity, -1 when nothing is stored yet. */
  lastStoredSeq(): number {
    return this.log.length ? this.log[this.log.length - 1]!.seq : -1;
  }

  subscribe(listener: DeliveryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class ConversationStore {
  private readonly conversations = new Map<string, Conversation>();
  private readonly uploads = new Map<string, StoredFile[]>();

  create(): Conversation {
    const conversation = new Conversation(newConversationId());
    this.conversations.set(conversation.id, conversation);
    return conversation;
  }

  get(id: string): Conversation | undefined {
    return this.conversations.get(id);
  }

  /** Unknown or expired conversation → 404 (§1.3 (4), §1.5). */
  require(id: string): Conversation {
    const conversation = this.conversations.get(id);
    if (!conversation) throw new HttpError(404, 'BadArgument', 'Conversation not found');
    return conversation;
  }

  ids(): string[] {
    return [...this.conversations.keys()];
  }

  /** Keeps uploaded bytes so the attachment contentUrls the emulator hands out can be fetched (§1.3 (7)). */
  storeUpload(files: StoredFile[]): string {
    const id = randomUUID();
    this.uploads.set(id, files);
    return id;
  }

  uploadedFile(id: string, index: number): StoredFile | undefined {
    return this.uploads.get(id)?.[index];
  }
}
