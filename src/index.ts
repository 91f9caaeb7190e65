// The programmatic API: start a recorder or a replay server from test code, read cassettes.
export { startRecorder, type Recorder, type RecordOptions } from './record/recorder.js';
export { DEFAULT_UPSTREAM } from './record/upstream.js';
export { startVcr, VCR_MODES, type Vcr, type VcrMode, type VcrOptions } from './vcr.js';
export { startReplayer, type Replayer, type ReplayOptions, type ReplaySummary, type UnmatchedRequest } from './replay/index.js';
export { parseFaultRule, FaultRuleError, FAULT_SYNTAX, FAULT_ROUTES, type FaultRule, type FaultKind } from './faults/rule.js';
export type { FaultSummary, InjectedFault } from './faults/plan.js';
export { loadCassette, parseCassette, validateCassette, CassetteError } from './cassette/load.js';
export { cassetteJsonSchema } from './cassette/json-schema.js';
export type { Cassette, CassetteEvent, HttpEvent, WsOpenEvent, WsMessageEvent, WsCloseEvent, Body } from './cassette/schema.js';
export { parseJsonPath, JsonPathError, type RedactionRules, type JsonPath } from './cassette/redact.js';
export type { ListenerTls } from './net/pem.js';
export {
  loadConfig,
  parseConfig,
  findConfigFile,
  mergeRedactionRules,
  ConfigError,
  CONFIG_FILE_NAME,
  type VcrConfig,
  type ConfigMode,
} from './config/config.js';
export { renderTimeline, toHar, toTranscript } from './inspect/index.js';
export { startInspector, DEFAULT_INSPECTOR_PORT, type Inspector, type InspectorOptions } from './inspector/index.js';
export { scanCassetteFile, scanText, type Finding } from './scan/scan.js';
export { createLogger } from './log.js';
export {
  diffCassettes,
  renderDiffText,
  renderJUnit,
  SIMILAR_TEXT_THRESHOLD,
  type DiffCassettesOptions,
  type CassetteDiff,
  type ConversationDiff,
  type TurnDiff,
  type FieldChange,
  type DiffOptions,
  type TextMode,
} from './diff/index.js';
export { verifyCassette, VerifyError, DEFAULT_SETTLE_MS, type VerifyOptions, type VerifyResult } from './verify/index.js';
export { runLoad, type LoadOptions, type LoadReport, type LoadMode } from './load/runner.js';
export { conversationScripts, type ConversationScript, type Turn } from './load/script.js';
