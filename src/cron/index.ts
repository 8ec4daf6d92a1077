/**
 * Cron schedules with time zones: the parser, the zone tables, the words,
 * the TypeScript matcher (the Lua one is lua/cron.lua, which the core runs
 * at pop time), and what the client stores for a cron template
 * (stored.ts, used by Queue.recur and RecurringJob).
 */
export { CronExpressionError, UnknownTimeZoneError, type CronErrorPlace } from './errors.js';
export { type CronFields, type CronFieldName, type DayRule } from './fields.js';
export { parseCron, type CronSchedule } from './parse.js';
export { encodeCronFields, decodeCronFields } from './encode.js';
export {
  checkTimeZone,
  decodeTransitions,
  DEFAULT_TIME_ZONE,
  encodeTransitions,
  formatInZone,
  REFRESH_MONTHS,
  TABLE_YEARS,
  tableNeedsRefresh,
  utcOffsetAt,
  zoneTable,
  type Transition,
  type ZoneTable,
} from './zone.js';
export { instantOfWallTime, nextOccurrence, nextWallTime, SEARCH_YEARS } from './next.js';
export { describeCron } from './describe.js';
export { compileCron, nextRuns, type CompiledCron, type NextRunsOptions } from './schedule.js';
export { storedCron, storedTableIsShort, type StoredCron } from './stored.js';
