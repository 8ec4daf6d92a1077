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
-- Printing 20 exact decimals is slow, and the calls of one pipeline share
-- their `now`, so the last result is kept (-0 and 0 print differently).
local time_memo_number, time_memo_text
local function format_time(t)
  if t ~= time_memo_number or t == 0 then
    time_memo_number, time_memo_text = t, string.format('%.20f', t)
  end
  return time_memo_text
end

-- Numbers passed to redis.call are turned into text by Redis with printf's
-- %.17g, which costs thousands of instructions each time. Two cheaper ways
-- to the same result:
-- * int_text: a whole number below 1e15 reads the same in %d form (far
--   cheaper to make); anything else, -0 included, is left for Redis.
-- * score_text: the %.17g text itself, for sorted-set scores and range
--   bounds, where only the number it parses to matters; a value used many
--   times in one call (`now`, a batch's lock expiry) is formatted once.
local function int_text(x)
  if type(x) == 'number' and x % 1 == 0 and x < 1e15 and x > -1e15 and (x ~= 0 or 1 / x > 0) then
    return string.format('%d', x)
  end
  return x
end

-- Lua's own text for a number (%.14g, as `..` and tostring make it), made
-- cheaply for whole numbers below 1e14: for day bins in key names and
-- histogram bucket names.
local function lua_text(x)
  if x % 1 == 0 and x < 1e14 and x > -1e14 and (x ~= 0 or 1 / x > 0) then
    return string.format('%d', x)
  end
  return tostring(x)
end

local score_memo_number, score_memo_text
local function score_text(x)
  if x ~= score_memo_number or x == 0 then
    score_memo_number, score_memo_text = x, string.format('%.17g', x)
  end
  return score_memo_text
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

-- What this call has read of ql:config (option -> stored text, or false
-- when unset). Commands fetch the options they will need in one HMGET up
-- front (config_prefetch); anything else is read on first use.
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

-- Read the listed options not read yet by this call, all in one HMGET.
local function config_prefetch(names)
  local missing = {}
  for i = 1, #names do
    if config_cache[names[i]] == nil then missing[#missing + 1] = names[i] end
  end
  if #missing == 0 then return end
  local values = redis.call('hmget', KEY_CONFIG, unpack(missing))
  for i = 1, #missing do config_cache[missing[i]] = values[i] end
end

local function config_forget(name)
  config_cache[name] = nil
end

-- Lock length for a queue: `<queue>-heartbeat`, else `heartbeat`, else 60.
local function heartbeat_for(queue)
  config_prefetch({queue .. '-heartbeat', 'heartbeat'})
  local per_queue = config_value(queue .. '-heartbeat', nil)
  if per_queue ~= nil then return per_queue end
  return config_value('heartbeat', 60)
end

------------------------------------------------------------------------------
-- Events (exact texts: conformance compares them byte for byte)
------------------------------------------------------------------------------

-- cjson.encode, bound at the start of every call by call_begin(): while a
-- function library loads, Redis shows it no global but `redis`, so nothing
-- at the top level of the chunk may touch cjson, string, math or the like.
local encode

-- Whether ql:tracked exists, as far as this call knows (nil: not asked).
local tracking = nil

-- Queues this call has already added to ql:queues.
local remembered_queues = {}

-- What this call's last retention pass established about ql:completed: no
-- member scored in [0, cutoff], and its size (nil: nothing known). Lets the
-- completes of one batch skip checks whose answer is already known.
local completed_known = nil

-- Per-call state: bind the late globals and forget what the previous call
-- read (in the function-library form the chunk outlives a call).
local function call_begin()
  encode = cjson.encode
  config_cache = {}
  tracking = nil
  remembered_queues = {}
  completed_known = nil
end

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
-- Few jobs are ever tracked: once this call knows that ql:tracked does
-- not exist, no lookup is needed (`track` forgets what is known).
local function is_tracked(jid)
  if tracking == nil then tracking = redis.call('exists', KEY_TRACKED) == 1 end
  if not tracking then return false end
  return redis.call('zscore', KEY_TRACKED, jid) ~= false
end

-- The same for many jids in one ZMSCORE (in slices): flags[i] tells jids[i].
local function tracked_flags(jids)
  local flags = {}
  if tracking == false then return flags end
  for first = 1, #jids, CHUNK do
    local last = math.min(first + CHUNK - 1, #jids)
    local scores = redis.call('zmscore', KEY_TRACKED, unpack(jids, first, last))
    for i = 1, #scores do flags[first + i - 1] = scores[i] ~= false end
  end
  return flags
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
local function trim_history(key, limit)
  local rest = redis.call('llen', key) - 1
  local needed
  if limit == 1 then needed = rest > 0 else needed = rest > limit - 2 end
  if not needed then return end
  local first = redis.call('lpop', key)
  redis.call('ltrim', key, -(limit - 2), -1)
  redis.call('lpush', key, first)
end

-- Append `[floor(when), what]` or `[floor(when), what, extra]`.
--
-- For a whole N >= 3 the trim runs after the append, on the length RPUSH
-- returns: keeping the first entry and the newest N-1 of the longer list is
-- the same as keeping the first and the newest N-2 and then appending, so
-- the usual append is one command instead of LLEN + RPUSH. The quirky
-- limits (1, fractions) take the reference's trim-first path unchanged, and
-- text that is not a number fails in the comparison below, before any
-- write, as it always did.
local function history_append(jid, when, what, extra, legacy)
  ensure_history_migrated(jid, legacy)
  local key = history_key(jid)
  local limit = config_value('max-job-history', 100)
  local entry
  if extra ~= nil then
    entry = encode({math.floor(when), what, extra})
  else
    entry = encode({math.floor(when), what})
  end
  if limit <= 0 or limit == 2 then
    redis.call('rpush', key, entry)
  elseif limit < 3 or limit % 1 ~= 0 then
    trim_history(key, limit)
    redis.call('rpush', key, entry)
  elseif redis.call('rpush', key, entry) > limit then
    local first = redis.call('lpop', key)
    redis.call('ltrim', key, 1 - limit, -1)
    redis.call('lpush', key, first)
  end
end

-- History as the list of objects a job object shows: the extra's fields,
-- then `when` and `what`, which win over same-named extra fields.
local function history_read(jid, legacy)
  ensure_history_migrated(jid, legacy)
  local raw = redis.call('lrange', history_key(jid), '0', '-1')
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

-- A job's dependents and dependencies. Most jobs have neither set: one
-- EXISTS then answers for both.
local function job_links(jid)
  local dependents_key = 'ql:j:' .. jid .. '-dependents'
  local dependencies_key = 'ql:j:' .. jid .. '-dependencies'
  if redis.call('exists', dependents_key, dependencies_key) > 0 then
    return redis.call('smembers', dependents_key), redis.call('smembers', dependencies_key)
  end
  return {}, {}
end

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
  local dependents, dependencies = job_links(jid)
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
    dependents = dependents,
    dependencies = dependencies,
    history = history_read(jid, f[14]),
  }
end

-- The same job as `pop.raw` returns it, for clients that convert the stored
-- text themselves (qless-ts): an array of the fields of JOB_FIELDS up to
-- spawned_from_jid as stored (absent ones nil), then tracked (1 or 0),
-- dependents, dependencies, and the history entries as stored. No JSON is
-- decoded or encoded, which is most of what a job object costs.
local function job_record(jid, f, tracked)
  local dependents, dependencies = job_links(jid)
  ensure_history_migrated(jid, f[14])
  return {
    f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13],
    tracked and 1 or 0, dependents, dependencies,
    redis.call('lrange', history_key(jid), '0', '-1'),
  }
end

------------------------------------------------------------------------------
-- Statistics
------------------------------------------------------------------------------

-- Wait and run samples (§10.1): a Welford running mean/variance plus one
-- histogram bucket per sample (s0..s59, m1..m59, h1..h23, d1...).
--
-- Samples for one queue and day are collected in a batch (samples_for,
-- samples_add) and written with one HMGET and one HMSET (samples_write):
-- the values are folded in one at a time, in order, exactly as separate
-- read-update-write rounds would (the stored text round-trips exactly), and
-- each bucket ends up incremented once per sample. A command's batch is
-- written when it is done (samples_done), except while `multi` defers
-- them: then every batch of the whole call is written once at its end.
local function sample_bucket(val)
  local v = math.floor(val)
  if v < 60 then
    return 's' .. lua_text(v)
  elseif v < 3600 then
    return 'm' .. lua_text(math.floor(v / 60))
  elseif v < 86400 then
    return 'h' .. lua_text(math.floor(v / 3600))
  end
  return 'd' .. lua_text(math.floor(v / 86400))
end

local function samples_write(batch)
  if batch.n == 0 then return end
  if batch.n == 1 then
    local val = batch[1]
    local bucket = sample_bucket(val)
    local s = redis.call('hmget', batch.key, 'total', 'mean', 'vk', bucket)
    local total, mean, vk = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
    if total == nil then
      total, mean, vk = 1, val, 0
    else
      total = total + 1
      local new_mean = mean + (val - mean) / total
      vk = vk + (val - new_mean) * (val - mean)
      mean = new_mean
    end
    redis.call('hmset', batch.key, 'total', int_text(total), 'mean', mean, 'vk', vk,
      bucket, int_text((tonumber(s[4]) or 0) + 1))
    return
  end
  local fields, buckets, counts = {'total', 'mean', 'vk'}, {}, {}
  for i = 1, batch.n do
    local bucket = sample_bucket(batch[i])
    if counts[bucket] == nil then
      counts[bucket] = 0
      buckets[#buckets + 1] = bucket
      fields[#fields + 1] = bucket
    end
    counts[bucket] = counts[bucket] + 1
  end
  local s = redis.call('hmget', batch.key, unpack(fields))
  local total, mean, vk = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
  for i = 1, batch.n do
    local val = batch[i]
    if total == nil then
      total, mean, vk = 1, val, 0
    else
      total = total + 1
      local new_mean = mean + (val - mean) / total
      vk = vk + (val - new_mean) * (val - mean)
      mean = new_mean
    end
  end
  local writes = {'total', int_text(total), 'mean', mean, 'vk', vk}
  for i = 1, #buckets do
    local bucket = buckets[i]
    writes[#writes + 1] = bucket
    writes[#writes + 1] = int_text((tonumber(s[3 + i]) or 0) + counts[bucket])
  end
  redis.call('hmset', batch.key, unpack(writes))
end

-- Batches held back by `multi`: by key, and in order of first use.
local deferred_samples = false

local function samples_for(kind, queue, now)
  local key = 'ql:s:' .. kind .. ':' .. lua_text(day_bin(now)) .. ':' .. queue
  if not deferred_samples then return { key = key, n = 0 } end
  local batch = deferred_samples[key]
  if batch == nil then
    batch = { key = key, n = 0 }
    deferred_samples[key] = batch
    deferred_samples[#deferred_samples + 1] = batch
  end
  return batch
end

local function samples_add(batch, val)
  batch.n = batch.n + 1
  batch[batch.n] = val
end

local function samples_done(batch)
  if not deferred_samples then samples_write(batch) end
end

local function samples_defer()
  deferred_samples = {}
end

local function samples_reset()
  deferred_samples = false
end

local function samples_flush()
  local pending = deferred_samples
  deferred_samples = false
  if pending then
    for i = 1, #pending do samples_write(pending[i]) end
  end
end

-- One sample on its own.
local function record_sample(kind, queue, now, val)
  local batch = samples_for(kind, queue, now)
  samples_add(batch, val)
  samples_done(batch)
end

-- Counter fields of ql:s:stats:<day>:<queue>.
local function stats_incr(queue, t, field, by)
  redis.call('hincrby', 'ql:s:stats:' .. lua_text(day_bin(t)) .. ':' .. queue, field, int_text(by))
end

------------------------------------------------------------------------------
-- Tag index
------------------------------------------------------------------------------

local function tag_index_add(jid, tag, now)
  redis.call('zadd', 'ql:t:' .. tag, score_text(now), jid)
  redis.call('zincrby', KEY_TAGS, '1', tag)
end

local function tag_index_remove(jid, tag)
  redis.call('zrem', 'ql:t:' .. tag, jid)
  redis.call('zincrby', KEY_TAGS, '-1', tag)
end

-- Add the queue to ql:queues with score `now` unless it is already known
-- (once per call: it is a no-op after that, unless queue.forget ran).
local function remember_queue(queue, now)
  if remembered_queues[queue] then return end
  redis.call('zadd', KEY_QUEUES, 'NX', score_text(now), queue)
  remembered_queues[queue] = true
end
