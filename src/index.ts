/**
 * qless-ts: a Redis-backed job queue whose logic runs in one Lua script
 * inside Redis, wire-compatible with qless-core.
 *
 * ```ts
 * import * as qless from 'qless-ts';
 * const client = qless.client();
 * const jid = await client.queue('underpants').put('gnomes.GnomesJob', { address: '123 Brief St.' });
 * ```
 */
export { client, Client, DEFAULT_URL, defaultWorkerName, type ClientOptions } from './client.js';
export {
  Queue,
  newJid,
  type PutOptions,
  type RecurOptions,
  type IntervalRecurOptions,
  type CronRecurOptions,
  type RecurChildOptions,
  type QueueJobs,
} from './queue.js';
export {
  Job,
  heartbeatJobs,
  completeJobs,
  type CompleteOutcome,
  type CompleteBatch,
  type JobOutcome,
  type JobSnapshot,
  type CompleteOptions,
  type RequeueOptions,
  type HeartbeatOutcome,
} from './job.js';
export { RecurringJob, type RecurringUpdate } from './recurring.js';
export { Jobs, type FailedJobs, type TrackedJobs } from './jobs.js';
export { Config, configValue, configWarning, NUMERIC_OPTIONS, QUEUE_NUMERIC_OPTIONS, type ConfigSetResult, type NumericOption } from './config.js';
export { Throttles, readRateLimit, type RateLimit, type ThrottleInfo, type ThrottleSetOptions, type ThrottleSummary } from './throttles.js';
export { Workers, Queues } from './workers.js';
export {
  Events,
  TRACKED_EVENTS,
  parseLogEvent,
  type EventHandlers,
  type EventName,
  type TrackedEventName,
  type LogEvent,
  type WorkerEvent,
  type PutEvent,
  type LockLostEvent,
  type FailedEvent,
  type CompletedEvent,
  type AdvancedEvent,
  type CanceledEvent,
  type ConfigSetEvent,
  type ConfigUnsetEvent,
  type ProgressEvent,
} from './events.js';
export {
  parseKlass,
  klassCandidates,
  findKlassFile,
  klassExport,
  klassOf,
  defineKlass,
  KLASS,
  KLASS_EXTENSIONS,
  type KlassParts,
  type KlassExport,
  type KlassRef,
  type KlassCarrier,
  type JobConstructor,
} from './klass.js';
export {
  QlessError,
  ScriptError,
  JobNotFoundError,
  LostLockError,
  WrongStateError,
  InvalidArgumentError,
  ForeignDataError,
  ConnectionError,
  DurabilityError,
  CrossNamespaceError,
  UnrecoverableError,
  type DurabilityShortfall,
  type QlessErrorCode,
  type ScriptErrorOptions,
} from './errors.js';
export {
  parseConnectionUrl,
  redactUrl,
  resolveRedisUrl,
  type ConnectionTarget,
  type StandaloneTarget,
  type SentinelTarget,
  type ClusterTarget,
  type ConnectionFlags,
  type DurabilityOptions,
  type Durability,
} from './connection/index.js';
export { UnexpectedReplyError, type JobRecord, type RecurringRecord } from './wire.js';
export { KeySpace, checkNamespace } from './keys.js';
export { ScriptGateway, systemClock, isCluster, type RedisConnection, type Clock, type CoreArg, type CoreReply, type CoreCall, type CoreOutcome, type CoreMode } from './gateway.js';
export type {
  JsonPrimitive,
  JsonValue,
  JsonObject,
  JobState,
  CompleteResult,
  HistoryEntry,
  Failure,
  QueueCounts,
  TimingStats,
  QueueStats,
  WorkerCounts,
  WorkerJobs,
  TaggedJids,
  ConfigValue,
  ConfigOption,
  KnownConfigOption,
} from './types.js';
export {
  hooks,
  Hooks,
  JOB_EVENTS,
  type AroundJob,
  type JobEventMap,
  type JobEventName,
  type JobListener,
  type JobInfo,
  type RunOutcomeName,
} from './hooks.js';
export { DEFAULT_RETRY_DELAY, DEFAULT_MAX_RETRY_DELAY, retryDelay, type RetryPolicy, type RetryDelayFunction } from './worker/retry.js';
// Cron schedules (Queue.recur with `cron`): the errors a bad expression or
// zone raises, and the parser, describer and zone formatting the CLI and
// dashboard use.
export {
  CronExpressionError,
  UnknownTimeZoneError,
  parseCron,
  describeCron,
  nextRuns,
  formatInZone,
  checkTimeZone,
  type CronSchedule,
} from './cron/index.js';
export type { CronRecord } from './wire.js';
// Progress reports (Job.progress).
export type { ProgressValue } from './types.js';
