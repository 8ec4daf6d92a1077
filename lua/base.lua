-- base.lua: what every other core module leans on.
--
-- Owns: the command registry, argument parsing, number and time formatting,
-- configuration lookup, the exact event payload texts, job history (append,
-- trim, legacy migration, read), the job object returned by get/pop/peek,
-- wait/run statistics and the tag index.
--
-- Redis 7 runs scripts with read-only globals, so everything here is a local.
-- The whole script is one Lua chunk: Lua 5.1 allows at most 200 locals per
-- function and 60 upvalues per closure, so helpers are grouped sparingly and
-- commands live in the `commands` table instead of in locals of their own.

local commands = {}

local KEY_CONFIG = 'ql:config'
local KEY_QUEUES = 'ql:queues'
local KEY_PAUSED = 'ql:paused_queues'
local KEY_WORKERS = 'ql:workers'
local KEY_COMPLETED = 'ql:completed'
local KEY_FAILURES = 'ql:failures'
local KEY_TRACKED = 'ql:tracked'
local KEY_TAGS = 'ql:tags'

-- Redis refuses commands with thousands of arguments spread from one table
-- (Lua's C stack overflows), so bulk operations go out in slices. Keep it
-- even: ZADD callers pass score/member pairs through call_chunked.
local CHUNK = 1000

local function job_key(jid) return 'ql:j:' .. jid end
local function queue_key(queue, suffix) return 'ql:q:' .. queue .. '-' .. suffix end
local function worker_jobs_key(worker) return 'ql:w:' .. worker .. ':jobs' end

-- Call `redis.call(cmd, key, <prefix...>, items...)` in slices of CHUNK items.
local function call_chunked(cmd, key, items)
  local n = #items
  local i = 1
  while i <= n do
    local last = math.min(i + CHUNK - 1, n)
    redis.call(cmd, key, unpack(items, i, last))
    i = last + 1
  end
end

-- Day bin of a time: midnight UTC, floor-modulo so negative times work too.
local function day_bin(t)
  return t - (t % 86400)
end

-- The job `time` field is the one number written with fixed decimals.
local function format_time(t)
  return string.format('%.20f', t)
end

-- Work-set score: higher pops first; equal priorities pop oldest first.
local function work_score(priority, t)
  return priority - (t / 10000000000)
end

-- Odd-count check shared by put and recur: the reference's message ends in
-- the address of a Lua table, which clients match only by prefix.
local function parse_options(args, first)
  local options = {}
  local last = #args
  if (last - first + 1) % 2 == 1 then
    error('Odd number of additional args: ' .. tostring(options))
  end
  for i = first, last, 2 do
    options[args[i]] = args[i + 1]
  end
  return options
end

-- Pairs without an odd-count check; a trailing name without value is absent.
local function parse_pairs(args, first)
  local options = {}
  local i = first
  while args[i + 1] ~= nil do
    options[args[i]] = args[i + 1]
    i = i + 2
  end
  return options
end

-- JSON argument check used throughout: undecodable text raises the decoder's
-- own error; text that decodes to `false` is reported with the caller's
-- message. Returns the decoded value.
local function decode_json_arg(text, message)
  local value = cjson.decode(text)
  if value == false then
    error(message .. tostring(text))
  end
  return value
end

-- A decoded JSON value that must be used as a list: an array or an object
-- (the reference treats an object as an empty list); anything else is an
-- error, raised before any write.
local function as_list(value, message)
  if type(value) ~= 'table' then
    error(message)
  end
  return value
end

------------------------------------------------------------------------------
-- Configuration
------------------------------------------------------------------------------

-- Built-in defaults, listed by config.get. Options with only an in-code
-- fallback (max-worker-age, max-job-history, per-queue settings) are not here.
local CONFIG_DEFAULTS = {
  ['application'] = 'qless',
  ['heartbeat'] = 60,
  ['grace-period'] = 10,
  ['stats-history'] = 30,
  ['histogram-history'] = 7,
  ['jobs-history'] = 604800,
  ['jobs-history-count'] = 50000,
}

-- One HGET per option per call: commands often need the same option for
-- several jobs.
local config_cache = {}

-- Stored value if set, else the built-in default, else `fallback`. Stored
-- values are converted with Lua-numeric parsing when they parse; text stays
-- text so that numeric use of it fails the way the reference does.
local function config_value(name, fallback)
  local cached = config_cache[name]
  if cached == nil then
    cached = redis.call('hget', KEY_CONFIG, name)
    config_cache[name] = cached
  end
  if cached then
    return tonumber(cached) or cached
  end
  local default = CONFIG_DEFAULTS[name]
  if default ~= nil then return default end
  return fallback
end

local function config_forget(name)
  config_cache[name] = nil
end

-- Lock length for a queue: `<queue>-heartbeat`, else `heartbeat`, else 60.
local function heartbeat_for(queue)
  local per_queue = config_value(queue .. '-heartbeat', nil)
  if per_queue ~= nil then return per_queue end
  return config_value('heartbeat', 60)
end

------------------------------------------------------------------------------
-- Events (exact texts: conformance compares them byte for byte)
------------------------------------------------------------------------------

local encode = cjson.encode

-- A JSON string literal with cjson's escaping, or `false`.
local function json_value(v)
  if v == false or v == nil then return 'false' end
  return encode(v)
end

local events = {}

function events.put(jid, queue)
  return '{"jid":' .. encode(jid) .. ',"event":"put","queue":' .. encode(queue) .. '}'
end

function events.lock_lost(jid, worker)
  return '{"jid":' .. encode(jid) .. ',"event":"lock_lost","worker":' .. encode(worker) .. '}'
end

function events.failed(message, jid, group, worker)
  return '{"message":' .. encode(message) .. ',"jid":' .. encode(jid) .. ',"group":' ..
    encode(group) .. ',"event":"failed","worker":' .. encode(worker) .. '}'
end

function events.completed(jid, queue)
  return '{"jid":' .. encode(jid) .. ',"event":"completed","queue":' .. encode(queue) .. '}'
end

function events.advanced(jid, to, queue)
  return '{"jid":' .. encode(jid) .. ',"to":' .. encode(to) .. ',"event":"advanced","queue":' ..
    encode(queue) .. '}'
end

function events.canceled(jid, queue, worker)
  return '{"jid":' .. encode(jid) .. ',"queue":' .. json_value(queue) ..
    ',"event":"canceled","worker":' .. json_value(worker) .. '}'
end

function events.config_set(option, value)
  return '{"option":' .. encode(option) .. ',"event":"config_set","value":' .. encode(value) .. '}'
end

function events.config_unset(option)
  return '{"event":"config_unset","option":' .. encode(option) .. '}'
end

local function publish(channel, payload)
  redis.call('publish', 'ql:' .. channel, payload)
end

-- Tracked-only bare-jid channels (put, popped, stalled, completed, failed,
-- canceled). `tracked` may be passed when the caller already knows it.
local function is_tracked(jid)
  return redis.call('zscore', KEY_TRACKED, jid) ~= false
end

------------------------------------------------------------------------------
-- History
------------------------------------------------------------------------------

local function history_key(jid) return 'ql:j:' .. jid .. '-history' end

-- Convert an old-format `history` field (a JSON list of objects) into list
-- entries appended after whatever the list already holds.
local function migrate_history(jid, legacy)
  local key = history_key(jid)
  local entries = {}
  for _, old in ipairs(cjson.decode(legacy)) do
    local q = old['q']
    entries[#entries + 1] = encode({math.floor(old['put']), 'put', {q = q}})
    if old['popped'] then
      entries[#entries + 1] = encode({math.floor(old['popped']), 'popped', {worker = old['worker']}})
    end
    if old['failed'] then
      entries[#entries + 1] = encode({math.floor(old['failed']), 'failed'})
    end
    if old['done'] then
      entries[#entries + 1] = encode({math.floor(old['done']), 'done'})
    end
  end
  if #entries > 0 then call_chunked('rpush', key, entries) end
  redis.call('hdel', job_key(jid), 'history')
end

-- Migrate if needed. `legacy` is the job's `history` field when the caller
-- already read it (false when absent); nil means "not read, look it up".
local function ensure_history_migrated(jid, legacy)
  if legacy == nil then
    legacy = redis.call('hget', job_key(jid), 'history')
  end
  if legacy then migrate_history(jid, legacy) end
end

-- Trim before appending, exactly as the reference does: keep the first entry
-- and the last N-2 of the rest (N = max-job-history; N <= 0 is unlimited;
-- N = 2 keeps everything and N = 1 keeps first + newest, as quirks). The
-- LPOP/LTRIM/LPUSH dance is skipped when it would change nothing.
local function trim_history(key)
  local limit = config_value('max-job-history', 100)
  if limit <= 0 or limit == 2 then return end
  local rest = redis.call('llen', key) - 1
  local needed
  if limit == 1 then needed = rest > 0 else needed = rest > limit - 2 end
  if not needed then return end
  local first = redis.call('lpop', key)
  redis.call('ltrim', key, -(limit - 2), -1)
  redis.call('lpush', key, first)
end

-- Append `[floor(when), what]` or `[floor(when), what, extra]`.
local function history_append(jid, when, what, extra, legacy)
  ensure_history_migrated(jid, legacy)
  local key = history_key(jid)
  trim_history(key)
  local entry
  if extra ~= nil then
    entry = encode({math.floor(when), what, extra})
  else
    entry = encode({math.floor(when), what})
  end
  redis.call('rpush', key, entry)
end

-- History as the list of objects a job object shows: the extra's fields,
-- then `when` and `what`, which win over same-named extra fields.
local function history_read(jid, legacy)
  ensure_history_migrated(jid, legacy)
  local raw = redis.call('lrange', history_key(jid), 0, -1)
  local out = {}
  for i = 1, #raw do
    local entry = cjson.decode(raw[i])
    local item = {}
    local extra = entry[3]
    if extra ~= nil then
      for k, v in pairs(extra) do item[tostring(k)] = v end
    end
    item['when'] = entry[1]
    item['what'] = entry[2]
    out[i] = item
  end
  return out
end

------------------------------------------------------------------------------
-- Job objects
------------------------------------------------------------------------------

local JOB_FIELDS = {
  'jid', 'klass', 'state', 'queue', 'worker', 'priority', 'expires', 'retries',
  'remaining', 'data', 'tags', 'failure', 'spawned_from_jid', 'history',
}

-- The job as get/multiget/pop/peek/track return it (a Lua table ready for
-- cjson), or nil when the hash has no `jid` field. A caller that has just
-- read the hash may pass `f` (HMGET of JOB_FIELDS, in order, with its own
-- updates applied and `history` set to false once migrated) and `tracked`
-- when it already knows it.
local function job_object(jid, f, tracked)
  f = f or redis.call('hmget', job_key(jid), unpack(JOB_FIELDS))
  if not f[1] then return nil end
  if tracked == nil then tracked = is_tracked(jid) end
  local tags = f[11] and cjson.decode(f[11]) or {}
  local failure = f[12] and cjson.decode(f[12]) or {}
  return {
    jid = f[1],
    klass = f[2],
    state = f[3],
    queue = f[4],
    worker = f[5],
    priority = tonumber(f[6]),
    expires = tonumber(f[7]) or 0,
    retries = tonumber(f[8]),
    remaining = math.floor(tonumber(f[9]) or 0),
    data = f[10],
    tags = tags,
    failure = failure,
    spawned_from_jid = f[13],
    tracked = tracked,
    dependents = redis.call('smembers', 'ql:j:' .. jid .. '-dependents'),
    dependencies = redis.call('smembers', 'ql:j:' .. jid .. '-dependencies'),
    history = history_read(jid, f[14]),
  }
end

------------------------------------------------------------------------------
-- Statistics
------------------------------------------------------------------------------

-- Record a wait or run sample: Welford running mean/variance plus one
-- histogram bucket (s0..s59, m1..m59, h1..h23, d1...).
local function record_sample(kind, queue, now, val)
  local key = 'ql:s:' .. kind .. ':' .. day_bin(now) .. ':' .. queue
  local s = redis.call('hmget', key, 'total', 'mean', 'vk')
  local total, mean, vk = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
  if total == nil then
    total, mean, vk = 1, val, 0
  else
    total = total + 1
    local new_mean = mean + (val - mean) / total
    vk = vk + (val - new_mean) * (val - mean)
    mean = new_mean
  end
  local v = math.floor(val)
  local bucket
  if v < 60 then
    bucket = 's' .. v
  elseif v < 3600 then
    bucket = 'm' .. math.floor(v / 60)
  elseif v < 86400 then
    bucket = 'h' .. math.floor(v / 3600)
  else
    bucket = 'd' .. math.floor(v / 86400)
  end
  redis.call('hmset', key, 'total', total, 'mean', mean, 'vk', vk)
  redis.call('hincrby', key, bucket, 1)
end

-- Counter fields of ql:s:stats:<day>:<queue>.
local function stats_incr(queue, t, field, by)
  redis.call('hincrby', 'ql:s:stats:' .. day_bin(t) .. ':' .. queue, field, by)
end

------------------------------------------------------------------------------
-- Tag index
------------------------------------------------------------------------------

local function tag_index_add(jid, tag, now)
  redis.call('zadd', 'ql:t:' .. tag, now, jid)
  redis.call('zincrby', KEY_TAGS, 1, tag)
end

local function tag_index_remove(jid, tag)
  redis.call('zrem', 'ql:t:' .. tag, jid)
  redis.call('zincrby', KEY_TAGS, -1, tag)
end

-- Add the queue to ql:queues with score `now` unless it is already known.
local function remember_queue(queue, now)
  redis.call('zadd', KEY_QUEUES, 'NX', now, queue)
end
