// Reading cassettes back: the timeline printer and the HAR and transcript exports. Nothing here needs a network.
export {
  renderTimeline,
  buildTimeline,
  type TimelineOptions,
  type TimelineRow,
  type TimelineRowKind,
  type TimelineGroup,
  type Direction,
} from './timeline.js';
export { toHar, type Har, type HarEntry, type HarOptions, type HarWebSocketMessage } from './har.js';
export { toTranscript, transcriptConversations, type TranscriptOptions } from './transcript.js';
export type { ActivitySummary } from './activities.js';
