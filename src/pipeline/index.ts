/**
 * The pipelines the CLI and library callers run, and the input error they may raise.
 */
export { CaptureError, type CaptureSource, type CaptureSummary } from '../capture/index.js';
export { walkPackets, type PacketWalkOptions, type PacketWalkResult } from './packets.js';
export { analyzeCapture, profileJson, type AnalyzeOptions } from './analyze.js';
export type { WorkerChoice } from './threads.js';
export { resolveProfile, resolveProfiles, ProfileError, PROFILES, describeTimeouts, type ProfileChoice, type TimeoutProfile } from './profiles.js';
export { replayCapture, inferLocalSide, type ReplayOptions, type ReplayResult } from './replay.js';
export { simulateCapture, type SimulateOptions } from './simulate.js';
export { parseSweep as parseSweepSpec } from '../flow/profiles.js';
export { explainInputs, type ExplainOptions, type ExplainResult } from './explain.js';
export {
  TailSession,
  hostAddresses,
  tailInterface,
  tailStream,
  TICK_LAG_US,
  type InterfaceEvent,
  type TailControl,
  type TailDamage,
  type TailEnd,
  type TailEvents,
  type TailFlow,
  type TailOptions,
  type TailSummary,
} from './tail.js';
export { LiveCaptureError, type LiveCaptureErrorCode } from '../capture/live.js';
export { TimelineCollector, TIMELINE_LIMITS, listVerdicts, type TimelineCollectorOptions } from './timeline.js';
export {
  LittleSnitchParseError,
  lsrulesForAlert,
  parseLittleSnitchAlert,
  rankAlertCauses,
  type AlertCause,
  type LittleSnitchAlert,
} from '../classify/little-snitch.js';
export { adviseRules, checkRules, readLoggedPackets, readPfConf, RulesInputError, type CheckResult, type RulesOptions, type RulesResult } from './rules.js';
