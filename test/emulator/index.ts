// Public API of the Direct Line 3.0 emulator used as a test upstream.
export { startEmulator, DEFAULT_SECRET, DEFAULT_BASE_PATH } from './server.js';
export { COLLISION_CLOSE_CODE, COLLISION_CLOSE_REASON, DROP_CLOSE_CODE, DROP_CLOSE_REASON } from './stream.js';
export {
  BOT_ACCOUNT,
  changedBot,
  defaultReply,
  defaultWelcome,
  livestreamReply,
  livestreamGapMs,
  LIVESTREAM_CHUNKS,
  LIVESTREAM_TEXT,
} from './bot.js';
export type { EmulatorOptions, BotChanges, BotReplyStep, BotScript, Emulator, FailRoute, RequestLogEntry } from './types.js';
