// An answer streamed as an LLM copilot streams it to Web Chat (livestreaming, botframework-webchat ≥ 4.18):
// interim `typing` activities whose text grows chunk by chunk, with channelData.streamType 'streaming' and an
// increasing streamSequence and the stream's id (the first interim activity's id) as streamId,
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
  // The stream is named after its first activity's id, which that activity carries too: Web Chat 4.18 orders an
  // interim activity among the typing activities with the same streamId, so a first one without any would be
  // sorted next to an earlier plain typing indicator instead of at the end of the chat.
  const streamId = builder.nextActivityId();
  stream.chunks.forEach((chunk, i) => {
    text += chunk;
    const channelData = { streamType: 'streaming', streamSequence: i + 1, streamId };
    builder.botSays(
      { type: 'typing', ...(i === 0 ? { id: streamId } : {}), text, channelData },
      { delay: i === 0 ? stream.delay : stream.every },
    );
  });
  const channelData: Record<string, unknown> = { ...(final.channelData ?? {}), streamType: 'final' };
  if (stream.chunks.length) channelData.streamId = streamId;
  return builder.botSays(
    { ...final, type: 'message', text: final.text ?? text, channelData },
    { delay: stream.chunks.length ? stream.every : stream.delay },
  );
}
