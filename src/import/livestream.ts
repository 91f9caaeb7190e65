// An answer streamed as an LLM copilot streams it to Web Chat (livestreaming, botframework-webchat ≥ 4.18):
// interim `typing` activities whose text grows chunk by chunk, with channelData.streamType 'streaming' and an
// increasing streamSequence (the first one's id is the stream's id: the later ones name it as streamId),
// then the complete `message` with streamType 'final'. Web Chat shows them as one bubble filling up.
import type { Activity } from '../protocol/types.js';
import type { CassetteBuilder } from './cassette-builder.js';

export interface Livestream {
  chunks: string[];
  /** Milliseconds between chunks (and before the final message). */
  every: number;
  /** Milliseconds before the first chunk. */
  delay: number;
}

/** Writes the interim activities and the final message; returns the final message's id. */
export function streamAnswer(builder: CassetteBuilder, stream: Livestream, final: Activity): string {
  let text = '';
  let streamId: string | undefined;
  stream.chunks.forEach((chunk, i) => {
    text += chunk;
    const channelData: Record<string, unknown> = { streamType: 'streaming', streamSequence: i + 1 };
    if (streamId !== undefined) channelData.streamId = streamId;
    const id = builder.botSays({ type: 'typing', text, channelData }, { delay: i === 0 ? stream.delay : stream.every });
    streamId ??= id;
  });
  const channelData: Record<string, unknown> = { ...(final.channelData ?? {}), streamType: 'final' };
  if (streamId !== undefined) channelData.streamId = streamId;
  return builder.botSays({ ...final, type: 'message', text: final.text ?? text, channelData }, { delay: stream.chunks.length ? stream.every : stream.delay });
}
