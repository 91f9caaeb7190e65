// Direct Line–shaped stream frames for the WebSocket benchmarks: an ActivitySet holding one bot message,
// padded to a target size, carrying its sequence number and the wall-clock time it was sent
// (performance.timeOrigin + performance.now(), in ms) so the client can measure latency.

const STAMP = '2026-01-01T00:00:00.0000000Z';

export function activitySet(conversationId: string, seq: number, sentAt: number, _size: number, pad: string): string {
  const id = `${conversationId}|${String(seq).padStart(7, '0')}`;
  return (
    `{"activities":[{"type":"message","id":${JSON.stringify(id)},"timestamp":"${STAMP}","localTimestamp":"${STAMP}",` +
    '"channelId":"directline","from":{"id":"bench-bot","name":"Bench Bot","role":"bot"},' +
    `"conversation":{"id":${JSON.stringify(conversationId)}},"textFormat":"plain","locale":"en-US",` +
    `"text":"${pad}","replyToId":${JSON.stringify(`${conversationId}|0000000`)},` +
    `"channelData":{"seq":${seq},"sentAt":${sentAt.toFixed(3)}}}],"watermark":"${seq}"}`
  );
}

/** Padding that brings a frame of this conversation id to about `size` bytes. */
export function paddingFor(conversationId: string, size: number): string {
  const probe = activitySet(conversationId, 1234567, 1.7e12, size, '');
  const words =
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';
  return words.repeat(Math.ceil(size / words.length)).slice(0, Math.max(0, size - probe.length));
}

export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Reads channelData.sentAt and seq back from a frame without parsing it all. */
export function stampsOf(text: string): { seq: number; sentAt: number } {
  const s = text.lastIndexOf('"seq":');
  const t = text.lastIndexOf('"sentAt":');
  return { seq: parseInt(text.slice(s + 6), 10), sentAt: parseFloat(text.slice(t + 9)) };
}
