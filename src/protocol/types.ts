// The Direct Line objects this tool reads (docs/protocol.md). Only the fields we use
// are typed; everything else passes through untouched.

export interface ChannelAccount {
  id?: string;
  name?: string;
  role?: string;
  [k: string]: unknown;
}

export interface Activity {
  type?: string;
  id?: string;
  text?: string;
  from?: ChannelAccount;
  recipient?: ChannelAccount;
  replyToId?: string;
  channelData?: Record<string, unknown> & { clientActivityID?: string };
  attachments?: Array<{ contentType?: string; contentUrl?: string; name?: string; [k: string]: unknown }>;
  timestamp?: string;
  [k: string]: unknown;
}

export interface ActivitySet {
  activities: Activity[];
  watermark?: string | null;
}

export interface Conversation {
  conversationId?: string;
  token?: string;
  expires_in?: number;
  streamUrl?: string;
  referenceGrammarId?: string;
  [k: string]: unknown;
}

export function isActivitySet(x: unknown): x is ActivitySet {
  return typeof x === 'object' && x !== null && Array.isArray((x as ActivitySet).activities);
}
