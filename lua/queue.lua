-- queue.lua: commands that act on a queue or on queues as a whole.
--
-- Owns: put, requeue, pop, peek, jobs, length, queues, pause, unpause,
-- queue.forget, unfail, failed, stats; and the queue-level machinery behind
-- them: stalled-lock handling (grace period, retries), promotion of ready
-- scheduled jobs and the queue counts.
--
-- Ordering (§5): the work set is read highest score first, so a larger
-- priority pops sooner, equal priorities oldest first and exact ties in
-- descending jid order. recur_spawn comes from recurring.lua.

local function load_pop()
  -- What pop holds of each job it hands out (`f` below): the job-object
  -- fields (base's JOB_FIELDS, in that order, so that the reply can be
  -- passed to job_object) plus `time` for the wait sample and `trace`:
  --   jid klass state queue worker priority expires retries remaining data
  --   tags failure spawned_from_jid history throttles time trace hn
  -- POP_HISTORY is where the legacy `history` blob lands; POP_HN is the
  -- count of a history kept in the hash (compact layout, see
  -- history_append).
  local POP_HISTORY = 14
  local POP_THROTTLES = 15
  local POP_TIME = 16
  -- (17, `trace`, is read by job_record only: see put.)
  local POP_HN = 18
  -- No job is tracked (read only).
  local NO_FLAGS = {}

  -- What is read of those: all but state, worker and expires (3, 5 and 7),
  -- which a job handed out gets new values of anyway. Each field of an
  -- HMGET reply costs a script nearly 2,000 instructions (Redis turns it
  -- into a Lua value and grows the table it lands in). A job parked by its
  -- throttles reads its state when it is parked (select_work).
  -- `hn` is read only for a job of the compact layout (a `klass` without
  -- `jid`): a job with a `jid` field keeps its history in the list (put and
  -- the recurring spawn write `hn` only to jobs without one), and asking
  -- every job for it cost today's layout a reply field per pop.
  local POP_READ = {
    'jid', 'klass', 'queue', 'priority', 'retries', 'remaining', 'data', 'tags', 'failure',
    'spawned_from_jid', 'history', 'throttles', 'time', 'trace',
  }

  -- A job's fields as pop holds them, false for the three not read.
  local function pop_read(jid)
    local key = H.job_key(jid)
    local r = redis.call('hmget', key, unpack(POP_READ))
    local hn = false
    if not r[1] and r[2] then hn = redis.call('hget', key, 'hn') end
    return {
      r[1], r[2], false, r[3], false, r[4], false, r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
      r[13], r[14], hn,
    }
  end

  -- Move up to `limit` ready scheduled jobs (score in [0, now]) to the work set.
  -- A nil limit means all of them; a negative one too (Redis LIMIT semantics).
  function H.promote_scheduled(queue, now, limit)
    if limit == 0 then return end
    local scheduled = H.queue_key(queue, 'scheduled')
    local ready
    if limit == nil then
      ready = redis.call('zrangebyscore', scheduled, '0', H.score_text(now))
    else
      ready = redis.call('zrangebyscore', scheduled, '0', H.score_text(now), 'LIMIT', '0', H.int_text(limit))
    end
    if #ready == 0 then return end
    local scores = {}
    for i, jid in ipairs(ready) do
      local key = H.job_key(jid)
      local priority = tonumber(redis.call('hget', key, 'priority') or 0)
      scores[2 * i - 1] = H.work_score(priority, now)
      scores[2 * i] = jid
      redis.call('hset', key, 'state', 'waiting')
    end
    H.call_chunked('zadd', H.queue_key(queue, 'work'), scores)
    H.call_chunked('zrem', scheduled, ready)
  end

  -- Fill `jids` (with each job's fields, see pop_read, in `fields`) from the top of
  -- the work set, up to `count`. A job that names throttles, or any job
  -- while its queue's throttle is in use (`gated`), must first lock every
  -- throttle it needs; one that cannot is parked (throttle_park) and the
  -- next is looked at, for at most `max-pop-retry` rounds (<queue>-max-pop-
  -- retry wins; 1 by default, as in reqless-core). Jobs that need no
  -- throttle cost nothing more than the field read.
  function H.select_work(queue, now, count, jids, fields, gated)
    local rounds = nil
    local work = H.queue_key(queue, 'work')
    while #jids < count do
      local top = redis.call('zrevrange', work, '0', H.int_text(count - #jids - 1))
      if #top == 0 then return end
      local parked = 0
      for i = 1, #top do
        local jid = top[i]
        local f = pop_read(jid)
        local blocked = nil
        if f[POP_THROTTLES] or gated then
          blocked = H.throttles_acquire(jid, H.job_throttles(f[POP_THROTTLES], queue))
        end
        if blocked then
          H.throttle_park(jid, queue, blocked, now, redis.call('hget', H.job_key(jid), 'state'), f[POP_HISTORY], f[POP_HN])
          parked = parked + 1
        else
          jids[#jids + 1] = jid
          -- (history_append migrates a legacy history blob at most once.)
          fields[#jids] = f
        end
      end
      if parked == 0 then return end
      if rounds == nil then
        rounds = H.config_number(queue .. '-max-pop-retry', nil) or H.config_number('max-pop-retry', 1)
      end
      rounds = rounds - 1
      if rounds <= 0 then return end
      -- The selected ones leave the work set before the next look at it.
      H.call_chunked('zrem', work, jids)
    end
  end

  -- The top `count` jids of the work set, appended to `jids` (Redis rank
  -- arithmetic: a negative count leaves that many off the tail).
  function H.take_work(queue, count, jids)
    if count == 0 then return jids end
    local top = redis.call('zrevrange', H.queue_key(queue, 'work'), '0', H.int_text(count - 1))
    for i = 1, #top do jids[#jids + 1] = top[i] end
    return jids
  end

  -- Stall handling for pop (§6.3): look at up to `count` expired locks, warn
  -- (courtesy step) and/or invalidate them. Returns the jids to hand out again.
  --
  -- The holder of a lock is always told it lost the job (lock_lost), also
  -- where the reference stayed silent: the `grace` flag of an earlier stall
  -- outlives a rescue (a heartbeat, or complete and put again), so the
  -- job's next stall went straight to invalidation without a word to its
  -- holder. A warning is for this stall when the courtesy step set the lock
  -- (to now + grace period, leaving `expires` as it was); when the lock is
  -- still the one pop or heartbeat set, it equals `expires` and the flag is
  -- left over from before.
  function H.reclaim_expired(queue, now, count)
    local locks = H.queue_key(queue, 'locks')
    local expired = redis.call('zrangebyscore', locks, '-inf', H.score_text(now), 'WITHSCORES',
      'LIMIT', '0', H.int_text(count))
    local reclaimed = {}
    if #expired == 0 then return reclaimed end
    local grace_period = H.config_number('grace-period', 10)
    for i = 1, #expired, 2 do
      local jid = expired[i]
      local key = H.job_key(jid)
      local f = redis.call('hmget', key, 'worker', 'grace', 'queue', 'history', 'expires', 'jid', 'hn')
      local worker = f[1]
      local legacy, hn = f[4], f[7]
      -- (A job in the compact layout has no `jid` field.)
      local compact = not f[6]
      redis.call('zrem', H.worker_jobs_key(worker), jid)
      local warned = tonumber(f[2] or 0) == 1
      local tracked = nil
      if grace_period <= 0 or not warned then
        tracked = H.is_tracked(jid)
        if tracked then H.publish('stalled', jid) end
        hn = H.history_append(jid, now, 'timed-out', nil, legacy, hn)
        legacy = false
        redis.call('hset', key, 'grace', 1)
        H.announce_lock_lost(jid, worker)
        redis.call('zadd', locks, now + grace_period, jid)
        H.stats_incr(queue, now, 'retries', 1)
      elseif tonumber(f[5]) == tonumber(expired[i + 1]) then
        H.announce_lock_lost(jid, worker)
      end
      if grace_period <= 0 or warned then
        redis.call('hdel', key, 'grace')
        local remaining = H.remaining_decrement(key, compact)
        if remaining < 0 then
          H.leave_queue(queue, jid, false)
          H.throttles_release(jid, H.job_throttles(redis.call('hget', key, 'throttles'), queue), now)
          local group = 'failed-retries-' .. f[3]
          local message = 'Job exhausted retries in queue "' .. queue .. '"'
          H.mark_exhausted(jid, now, group, H.failure_text(group, message, now, ''), queue, legacy, compact, hn)
          if tracked == nil then tracked = H.is_tracked(jid) end
          if tracked then H.publish('failed', jid) end
          H.publish('log', H.event_failed(message, jid, group, worker))
        else
          reclaimed[#reclaimed + 1] = jid
        end
      end
    end
    return reclaimed
  end

  ----------------------------------------------------------------------------
  -- pop, peek
  ----------------------------------------------------------------------------

  -- pop and pop.raw: the same checks, writes and events; `raw` only changes
  -- the reply (job_record instead of job_object; nothing is an empty array
  -- instead of `{}`).
  function H.pop_jobs(now, args, raw)
    local nothing = raw and {} or '{}'
    local queue = H.require_queue(args[1])
    local worker, raw_count = args[2], args[3]
    if worker == nil then error('Pop(): Arg "worker" missing') end
    -- (Checked here rather than with the argument helpers, so that a pop
    -- does not load their group.)
    local count = H.small_number(raw_count)
    if count == nil or count - count ~= 0 then
      error('Pop(): Arg "count" missing or not a number: ' .. tostring(raw_count))
    end
    -- The reference passed a negative or fractional count on to Redis range
    -- arithmetic (-1 popped all but one waiting job, 1.5 failed with Redis's
    -- own text after the worker was registered): refused up front with that
    -- text, which clients may match.
    if count < 0 or count % 1 ~= 0 then
      error('Pop(): Arg "count" value is not an integer or out of range: ' .. raw_count)
    end

    -- Every option pop may need, in one read.
    local options = H.queue_options(queue)
    local heartbeat_name, concurrency_name = options.heartbeat, options.concurrency
    local rate_name, window_name = options.rate, options.window
    H.config_prefetch(options.for_pop)
    local expires = now + H.heartbeat_for(queue, heartbeat_name)
    -- Paused queues, recurring templates, scheduled jobs, tracked jobs and
    -- a limit on the queue's own throttle are the exception: when none of
    -- their keys exists, one EXISTS stands in for the pause check, both
    -- scans, the tracked lookups and the queue gate (on missing keys they
    -- would find nothing). When some exist, one more EXISTS tells whether
    -- the queue's throttle has a limit (`gated`: every job popped from the
    -- queue then takes a slot of it), and whether it was the only one.
    local paused_queues = H.key('paused_queues')
    local queue_throttle = H.queue_throttle(queue)
    local found = redis.call('exists', paused_queues, H.queue_key(queue, 'recur'),
      H.queue_key(queue, 'scheduled'), H.key('tracked'), H.throttle_key(queue_throttle))
    local gated = found > 0 and redis.call('exists', H.throttle_key(queue_throttle)) == 1
    local exceptions = found > (gated and 1 or 0)
    if not exceptions then tracking = false end
    if exceptions and redis.call('sismember', paused_queues, queue) == 1 then return nothing end
    redis.call('zadd', H.key('workers'), H.score_text(now), worker)

    local max_concurrency = H.config_number(concurrency_name, 0)
    if max_concurrency > 0 then
      local running = redis.call('zcount', H.queue_key(queue, 'locks'), H.score_text(now), '+inf')
      count = math.min(math.max(0, max_concurrency - running), count)
      if count == 0 then return nothing end
    end

    -- The rate limit trims the count like max-concurrency; with nothing
    -- left, pop.raw tells how long until the next start may be made.
    local rate = nil
    if H.config_number(rate_name, 0) > 0 then
      rate = H.rate_room(queue, now, rate_name, window_name)
      if rate.room < count then count = rate.room end
      if count == 0 then
        if raw then return H.rate_wait_reply(queue, rate) end
        return nothing
      end
    end

    local jids = H.reclaim_expired(queue, now, count)
    -- A full queue throttle hands out only the reclaimed jobs (which still
    -- hold their slots).
    if gated and not H.throttle_available(queue_throttle) then count = #jids end
    if exceptions then
      H.recur_spawn(queue, now, count - #jids)
      H.promote_scheduled(queue, now, count - #jids)
    end
    local fields = {}
    for i = 1, #jids do fields[i] = pop_read(jids[i]) end
    H.select_work(queue, now, count, jids, fields, gated)
    if #jids == 0 then return nothing end
    if rate then H.rate_record(queue, now, rate, jids) end

    -- Per job: append `popped`, lock it; the wait samples, the tracked
    -- lookups and the set updates are done once for the whole batch.
    local tracked = NO_FLAGS
    if exceptions then tracked = H.tracked_flags(jids) end
    local waits = H.samples_for('wait', queue, now)
    local time_text = H.format_time(now)
    local expires_text = H.expiry_text(expires)
    local out = {}
    for i, jid in ipairs(jids) do
      local key = H.job_key(jid)
      local f = fields[i]
      -- (Kept in its own slot: a named key would give the table a hash part.)
      f[POP_HN] = H.history_append(jid, now, 'popped', {worker = worker}, f[POP_HISTORY], f[POP_HN], f[POP_TIME], f[4])
      f[POP_HISTORY] = false
      H.samples_add(waits, H.elapsed(now, f[POP_TIME]))
      -- (A job in the compact layout, a `klass` without `jid`, keeps its time shorter.)
      redis.call('hset', key, 'time', (f[1] or not f[2]) and time_text or H.compact_time(now), 'worker', worker,
        'expires', expires_text, 'state', 'running')
      if tracked[i] then H.publish('popped', jid) end
      -- (A compact-layout job has no `jid` field: its `klass` tells.)
      if f[1] or f[2] then
        f[3], f[5], f[7] = 'running', worker, expires_text
        if raw then
          out[#out + 1] = H.job_record(jid, f, tracked[i] or false)
        else
          out[#out + 1] = H.job_object(jid, f, tracked[i] or false)
        end
      end
    end
    H.samples_done(waits)
    -- Every lock has the same expiry. Small sorted sets are listpacks, where
    -- each insert scans (and parses the score of) every member before its
    -- place; equal scores are ordered by member, so adding the members in
    -- descending order puts each at the front of its equals.
    local lock_scores
    if #jids == 1 then
      lock_scores = { expires_text, jids[1] }
    else
      local sorted = {}
      for i = 1, #jids do sorted[i] = jids[i] end
      table.sort(sorted, function(a, b) return a > b end)
      lock_scores = {}
      for i = 1, #sorted do
        lock_scores[2 * i - 1] = expires_text
        lock_scores[2 * i] = sorted[i]
      end
    end
    H.call_chunked('zadd', H.worker_jobs_key(worker), lock_scores)
    H.call_chunked('zadd', H.queue_key(queue, 'locks'), lock_scores)
    H.call_chunked('zrem', H.queue_key(queue, 'work'), jids)
    if raw then return out end
    return cjson.encode(out)
  end
end

local function load_queue_util()
  function H.encode_jobs(jids)
    local out = {}
    for _, jid in ipairs(jids) do
      local job = H.job_object(jid)
      if job ~= nil then out[#out + 1] = job end
    end
    return cjson.encode(out)
  end

  function H.queue_counts(queue, now)
    local locks = H.queue_key(queue, 'locks')
    local stalled = redis.call('zcount', locks, 0, now)
    H.promote_scheduled(queue, now, nil)
    return {
      name = queue,
      waiting = redis.call('zcard', H.queue_key(queue, 'work')),
      stalled = stalled,
      running = redis.call('zcard', locks) - stalled,
      scheduled = redis.call('zcard', H.queue_key(queue, 'scheduled')),
      depends = redis.call('zcard', H.queue_key(queue, 'depends')),
      recurring = redis.call('zcard', H.queue_key(queue, 'recur')),
      paused = redis.call('sismember', H.key('paused_queues'), queue) == 1,
    }
  end

  ----------------------------------------------------------------------------
  -- pause, unpause, queue.forget
  ----------------------------------------------------------------------------

  -- With no names Redis itself refuses the command ("Wrong number of args"),
  -- which is the reference's error; otherwise the names go out in slices.
  function H.bulk_members(command, key, names)
    if #names == 0 then redis.call(command, key) end
    H.call_chunked(command, key, names)
    return nil
  end

  ----------------------------------------------------------------------------
  -- stats
  ----------------------------------------------------------------------------

  -- The 148 histogram fields, in report order: s0..s59, m1..m59, h1..h23,
  -- d1..d6. Built when `stats` needs them, not on every call of the script.
  function H.histogram_fields()
    local fields = {}
    for i = 0, 59 do fields[#fields + 1] = 's' .. i end
    for i = 1, 59 do fields[#fields + 1] = 'm' .. i end
    for i = 1, 23 do fields[#fields + 1] = 'h' .. i end
    for i = 1, 6 do fields[#fields + 1] = 'd' .. i end
    return fields
  end

  function H.timing_stats(kind, bin, queue, fields)
    local key = H.stats_key(kind, bin, queue)
    local s = redis.call('hmget', key, 'total', 'mean', 'vk')
    local count = tonumber(s[1]) or 0
    local std = 0
    if count > 1 then std = math.sqrt(tonumber(s[3]) / (count - 1)) end
    local raw = redis.call('hmget', key, unpack(fields))
    local histogram = {}
    for i = 1, #fields do histogram[i] = tonumber(raw[i]) or 0 end
    return { count = count, mean = tonumber(s[2]) or 0, std = std, histogram = histogram }
  end
end

local function load_queue_args()
  function H.require_queue(queue)
    if queue == nil then error('Queue(): no queue name provided') end
    return queue
  end

  -- Add the queue to ql:queues with score `now` unless it is already known
  -- (once per call: it is a no-op after that, unless queue.forget ran).
  function H.remember_queue(queue, now)
    if not remembered_queues then
      remembered_queues = {}
    elseif remembered_queues[queue] then
      return
    end
    redis.call('zadd', H.key('queues'), 'NX', H.score_text(now), queue)
    remembered_queues[queue] = true
  end

end

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function queue_commands(name)
  -- Put's constants, made at its first call (not at every call; and not
  -- here, where every queue command's making would pay for them): a new
  -- job's absent fields, only ever read, and the options put reads.
  local no_fields, put_options
  ----------------------------------------------------------------------------
  -- put, requeue
  ----------------------------------------------------------------------------

  if name == 'put' then return function(now, args)
    local worker = args[1]
    local queue = H.require_queue(args[2])
    local jid, klass, data, raw_delay = args[3], args[4], args[5], args[6]
    if jid == nil then error('Put(): Arg "jid" missing') end
    if klass == nil then error('Put(): Arg "klass" missing') end
    H.decode_json_arg(data, 'Put(): Arg "data" missing or not JSON: ')
    local delay = H.finite(raw_delay)
    if delay == nil then
      error('Put(): Arg "delay" not a number: ' .. tostring(raw_delay))
    end
    local options = H.parse_options(args, 7)

    -- The options, checked in the reference's order, then what it let
    -- through: fractional or negative retries, option names no client
    -- sends, and jids that would collide with other jobs' keys.
    local retries = options['retries']
    if retries ~= nil then
      retries = H.finite(retries)
      if retries == nil then error('Put(): Arg "retries" not a number: ' .. options['retries']) end
    end
    -- `[]` (what clients send for none) needs no decoding.
    local tags
    if options['tags'] == '[]' then
      tags = {}
    elseif options['tags'] ~= nil then
      tags = H.json_list(options['tags'], 'Put(): Arg "tags" not JSON')
    end
    local priority = options['priority']
    if priority ~= nil then
      priority = H.finite(priority)
      if priority == nil then error('Put(): Arg "priority" not a number' .. options['priority']) end
    end
    local depends = nil
    if options['depends'] ~= nil and options['depends'] ~= '[]' then
      depends = H.json_list(options['depends'], 'Put(): Arg "depends" not JSON: ')
    end
    local throttles = nil
    if options['throttles'] ~= nil then
      throttles = H.json_list(options['throttles'], 'Put(): Arg "throttles" not JSON: ')
    end
    -- trace (qless-ts): the trace context of the span that put the job (a
    -- JSON object, W3C `traceparent`...), kept in the job's hash as `trace`.
    -- No job object shows it (get, peek, pop, track...): only pop.raw hands
    -- it to the worker that runs the job. Other clients never send it, and
    -- a re-put without it drops the old one (a new producer).
    local trace = options['trace']
    if trace ~= nil then
      local ok, decoded = pcall(cjson.decode, trace)
      if not ok or type(decoded) ~= 'table' or not string.find(trace, '^%s*{') then
        error('Put(): Arg "trace" not a JSON object: ' .. trace)
      end
    end
    if retries ~= nil then H.require_count(retries, 'Put(): Arg "retries"', options['retries']) end
    -- Option names put and requeue take: those of qless-core (priority,
    -- tags, retries, depends: every client sends them); throttles (reqless
    -- clients; the throttles of the reqless-core design); resources, replace
    -- and interval (qless-php and go-qless, written for a qless-core fork:
    -- accepted and ignored, as qless-core ignores them). Any other name is a
    -- mistake the reference silently ignored.
    for option in pairs(options) do
      if option ~= 'priority' and option ~= 'tags' and option ~= 'retries' and option ~= 'depends' and
          option ~= 'throttles' and option ~= 'resources' and option ~= 'replace' and option ~= 'interval' and
          option ~= 'trace' then
        error('Put(): Unrecognized option "' .. option .. '"')
      end
    end
    local suffix = H.reserved_suffix(jid)
    if suffix then error('Put(): Arg "jid" may not end in "' .. suffix .. '": ' .. jid) end

    local key = H.job_key(jid)
    local dependencies_key = H.dependencies_key(jid)
    -- Most puts make a new job: when none of its keys exists, one EXISTS
    -- stands in for reading the (absent) old fields, checking the types of
    -- its keys and counting the (absent) old dependencies.
    -- ql:tracked joins them: few installations track jobs, and when it is
    -- missing too, the tracked lookup at the end needs no command either.
    local history_key = H.history_key(jid)
    local existing = true
    if tracking == nil then
      if redis.call('exists', key, dependencies_key, history_key, H.key('tracked')) == 0 then
        existing, tracking = false, false
      end
    end
    if existing then existing = redis.call('exists', key, dependencies_key, history_key) > 0 end
    if no_fields == nil then
      no_fields = {false, false, false, false, false, false, false, false, false, false, false}
      put_options = {'max-job-history', 'job-layout'}
    end
    local f = no_fields
    if existing then
      H.require_key_type('Put()', key, 'hash')
      H.require_key_type('Put()', history_key, 'list')
      H.require_key_type('Put()', dependencies_key, 'set')
      f = redis.call('hmget', key, 'priority', 'tags', 'queue', 'state', 'failure',
        'retries', 'worker', 'history', 'throttles', 'jid', 'hn')
    end
    -- The layout: a job that exists keeps its own (a `jid` field: today's;
    -- a `state` without one: compact), a new one follows job-layout. A new
    -- compact job keeps its history in its hash, unless a `-history` list
    -- is there already (left by an older job of this jid).
    -- (Both options in one read: history_append reads max-job-history.)
    H.config_prefetch(put_options)
    local compact, hn = false, false
    if f[10] then
      hn = f[11]
    elseif f[4] then
      compact, hn = true, f[11]
    elseif H.compact_layout() then
      compact = true
      if not existing or redis.call('exists', history_key) == 0 then hn = 0 end
    end
    local old_tags, oldqueue, state, oldworker = f[2], f[3], f[4], f[7]
    if retries == nil then retries = tonumber(f[6]) or 5 end
    if priority == nil then priority = tonumber(f[1]) or 0 end
    -- Tags stored as anything but a list (an old template's scalar) are none.
    if old_tags then
      old_tags = cjson.decode(old_tags)
      if type(old_tags) ~= 'table' then old_tags = false end
    end
    if tags == nil then tags = old_tags or {} end
    -- An empty list ({} included) keeps the old dependencies, as no list does.
    if depends ~= nil and #depends == 0 then depends = nil end
    local to_link = nil
    if depends then
      to_link = H.dependencies_to_link('Put()', jid, depends, 'Arg "depends" may not hold a jid ending in')
    end

    -- 1. Old tags out (re-added below with score `now`).
    if old_tags then
      for _, tag in ipairs(old_tags) do H.tag_index_remove(jid, tag) end
    end
    -- 2. A non-empty depends list replaces the old dependencies.
    if depends then
      local wanted = {}
      for _, dep in ipairs(depends) do wanted[tostring(dep)] = true end
      for _, dep in ipairs(redis.call('smembers', dependencies_key)) do
        if not wanted[dep] then
          redis.call('srem', H.dependents_key(dep), jid)
          redis.call('srem', dependencies_key, dep)
        end
      end
    end
    -- 3-5. Announce, record, and take it away from wherever it was.
    H.publish('log', H.event_put(jid, queue))
    hn = H.history_append(jid, now, 'put', {q = queue}, f[8], hn)
    if oldqueue then
      H.leave_queue(oldqueue, jid, true)
      -- Its old slots and places in line go (reqless-core kept them: a
      -- re-put holder of a full throttle then waited for itself).
      H.throttles_release(jid, H.job_throttles(f[9], oldqueue), now)
    end
    if oldworker and oldworker ~= '' then
      redis.call('zrem', H.worker_jobs_key(oldworker), jid)
      if oldworker ~= worker then H.announce_lock_lost(jid, oldworker) end
    end
    -- 6-7. Out of retention, new tags in, out of its failure group.
    if state == 'complete' then
      redis.call('zrem', H.key('completed'), jid)
      completed_known = nil
    end
    for _, tag in ipairs(tags) do H.tag_index_add(jid, tag, now) end
    if state == 'failed' then
      local failure = H.leave_failure_group(jid, f[5])
      -- Reference behaviour: the target queue's counter, on the failure's day.
      H.stats_incr(queue, failure['when'], 'failed', -1)
    end
    -- 8. The hash. (The field list is written out twice on purpose: one
    -- list for both layouts, as recur_spawn has it, costs every put ~2.5 k
    -- instructions, 1.3 %, for its table or closure; bench/profile.ts.)
    if compact then
      H.job_write_compact(key, f[4] ~= false, {
        'klass', klass,
        'data', data,
        'priority', H.int_text(priority),
        'tags', cjson.encode(tags),
        'state', (delay > 0) and 'scheduled' or 'waiting',
        'worker', '',
        'expires', '0',
        'queue', queue,
        'retries', H.int_text(retries),
        'remaining', H.int_text(retries),
        'time', H.compact_time(now)})
    else
      redis.call('hset', key,
        'jid', jid,
        'klass', klass,
        'data', data,
        'priority', H.int_text(priority),
        -- (cjson writes an empty table, what most puts have, as `{}`.)
        'tags', next(tags) == nil and '{}' or cjson.encode(tags),
        'state', (delay > 0) and 'scheduled' or 'waiting',
        'worker', '',
        'expires', '0',
        'queue', queue,
        'retries', H.int_text(retries),
        'remaining', H.int_text(retries),
        'time', H.format_time(now))
    end
    if trace ~= nil then
      redis.call('hset', key, 'trace', trace)
    elseif existing then
      redis.call('hdel', key, 'trace')
    end
    -- Its throttles: the ones named, else those it had (each once, without
    -- the old queue's), then its queue's own. None named: no field at all.
    local stored_throttles = false
    if throttles == nil and f[9] then throttles = cjson.decode(f[9]) end
    if throttles ~= nil then
      local drop = { [H.queue_throttle(queue)] = true }
      if oldqueue then drop[H.queue_throttle(oldqueue)] = true end
      local list = H.throttle_list(throttles, drop, H.queue_throttle(queue))
      if #list > 0 then
        stored_throttles = list
        redis.call('hset', key, 'throttles', encode(list))
      elseif f[9] then
        redis.call('hdel', key, 'throttles')
      end
    end
    -- 9-10. Dependencies, then placement.
    if to_link then H.link_dependencies(jid, to_link) end
    local blocked = false
    if existing or depends then blocked = redis.call('scard', dependencies_key) > 0 end
    if blocked then
      redis.call('zadd', H.queue_key(queue, 'depends'), now, jid)
      if delay > 0 then
        redis.call('hset', key, 'state', 'depends', 'scheduled', now + delay)
      else
        redis.call('hset', key, 'state', 'depends')
      end
    elseif delay > 0 then
      redis.call('zadd', H.queue_key(queue, 'scheduled'), now + delay, jid)
    else
      -- A job that names throttles waits parked when one is full already
      -- (any other job is looked at by pop).
      local full = stored_throttles and H.throttle_full(stored_throttles)
      if full then
        H.throttle_park(jid, queue, full, now, 'waiting', false, hn)
      else
        redis.call('zadd', H.queue_key(queue, 'work'), H.work_score(priority, now), jid)
      end
    end
    -- 11-12.
    H.remember_queue(queue, now)
    if H.is_tracked(jid) then H.publish('put', jid) end
    return jid
  end end

  if name == 'requeue' then return function(now, args)
    local jid = H.require_jid(args[3])
    if redis.call('exists', H.job_key(jid)) == 0 then
      error('Requeue(): Job ' .. jid .. ' does not exist')
    end
    return commands['put'](now, args)
  end end

  if name == 'pop' then return function(now, args) return H.pop_jobs(now, args, false) end end

  -- pop.raw <now> <queue> <worker> <count>: pop for clients that read the
  -- stored fields themselves (see job_record); qless-ts pops this way.
  if name == 'pop.raw' then return function(now, args) return H.pop_jobs(now, args, true) end end

  if name == 'peek' then return function(now, args)
    local queue = H.require_queue(args[1])
    local raw_count = args[2]
    local count = H.finite(raw_count)
    if count == nil then
      error('Peek(): Arg "count" missing or not a number: ' .. tostring(raw_count))
    end
    if count < 0 or count % 1 ~= 0 then
      error('Peek(): Arg "count" value is not an integer or out of range: ' .. raw_count)
    end
    local jids = redis.call('zrangebyscore', H.queue_key(queue, 'locks'), '-inf', H.score_text(now),
      'LIMIT', '0', H.int_text(count))
    H.recur_spawn(queue, now, count - #jids)
    H.promote_scheduled(queue, now, count - #jids)
    H.take_work(queue, count - #jids, jids)
    return H.encode_jobs(jids)
  end end

  ----------------------------------------------------------------------------
  -- jobs, length, queues
  ----------------------------------------------------------------------------

  if name == 'jobs' then return function(now, args)
    local state = args[1]
    if state == nil then error('Jobs(): Arg "state" missing') end
    local first = 2
    local queue
    if state ~= 'complete' then
      queue = args[2]
      if queue == nil then error('Jobs(): Arg "queue" missing') end
      first = 3
    end
    local offset = H.finite(args[first] or 0)
    if offset == nil then
      error('Jobs(): Arg "offset" not a number: ' .. tostring(args[first]))
    end
    local count = H.finite(args[first + 1] or 25)
    if count == nil then
      error('Jobs(): Arg "count" not a number: ' .. tostring(args[first + 1]))
    end
    H.require_whole(offset, 'Jobs(): Arg "offset"', args[first])
    H.require_whole(count, 'Jobs(): Arg "count"', args[first + 1])

    if state == 'complete' then
      return redis.call('zrevrange', H.key('completed'), offset, offset + count - 1)
    elseif state == 'running' then
      return redis.call('zrangebyscore', H.queue_key(queue, 'locks'), now, '+inf', 'LIMIT', offset, count)
    elseif state == 'stalled' then
      return redis.call('zrangebyscore', H.queue_key(queue, 'locks'), '-inf', now, 'LIMIT', offset, count)
    elseif state == 'scheduled' then
      H.promote_scheduled(queue, now, nil)
      return redis.call('zrange', H.queue_key(queue, 'scheduled'), offset, offset + count - 1)
    elseif state == 'depends' then
      return redis.call('zrange', H.queue_key(queue, 'depends'), offset, offset + count - 1)
    elseif state == 'throttled' then
      return redis.call('zrange', H.queue_key(queue, 'throttled'), offset, offset + count - 1)
    elseif state == 'recurring' then
      return redis.call('zrangebyscore', H.queue_key(queue, 'recur'), 0, '+inf', 'LIMIT', offset, count)
    end
    error('Jobs(): Unknown type "' .. state .. '"')
  end end

  if name == 'length' then return function(now, args)
    local queue = H.require_queue(args[1])
    return redis.call('zcard', H.queue_key(queue, 'locks')) +
      redis.call('zcard', H.queue_key(queue, 'work')) +
      redis.call('zcard', H.queue_key(queue, 'scheduled'))
  end end

  if name == 'queues' then return function(now, args)
    if args[1] ~= nil then
      return cjson.encode(H.queue_counts(args[1], now))
    end
    local out = {}
    for i, queue in ipairs(redis.call('zrange', H.key('queues'), 0, -1)) do
      out[i] = H.queue_counts(queue, now)
    end
    return cjson.encode(out)
  end end

  if name == 'pause' then return function(now, args) return H.bulk_members('sadd', H.key('paused_queues'), args) end end
  if name == 'unpause' then return function(now, args) return H.bulk_members('srem', H.key('paused_queues'), args) end end
  if name == 'queue.forget' then return function(now, args)
    remembered_queues = false
    return H.bulk_members('zrem', H.key('queues'), args)
  end end

  ----------------------------------------------------------------------------
  -- failed, unfail
  ----------------------------------------------------------------------------

  if name == 'failed' then return function(now, args)
    local group = args[1]
    local start = H.finite(args[2] or 0)
    if start == nil then
      error('Failed(): Arg "start" is not a number: ' .. tostring(args[2]))
    end
    local limit = H.finite(args[3] or 25)
    if limit == nil then
      error('Failed(): Arg "limit" is not a number: ' .. tostring(args[3]))
    end
    H.require_whole(start, 'Failed(): Arg "start"', args[2])
    H.require_whole(limit, 'Failed(): Arg "limit"', args[3])
    if group ~= nil then
      local list = H.failure_group_key(group)
      return cjson.encode({
        total = redis.call('llen', list),
        jobs = redis.call('lrange', list, start, start + limit - 1),
      })
    end
    local out = {}
    for _, name in ipairs(redis.call('smembers', H.key('failures'))) do
      out[name] = redis.call('llen', H.failure_group_key(name))
    end
    return cjson.encode(out)
  end end

  if name == 'unfail' then return function(now, args)
    local queue = H.require_queue(args[1])
    local group, raw_count = args[2], args[3]
    if group == nil then error('Unfail(): Arg "group" missing') end
    local count = H.finite(raw_count or 25)
    if count == nil then
      error('Unfail(): Arg "count" not a number: ' .. tostring(raw_count))
    end
    -- The reference handed 0, negative and fractional counts to Redis, which
    -- refused some (0 as -0) and read others oddly (a negative count moved
    -- jobs from the wrong end).
    if count < 1 or count % 1 ~= 0 then
      error('Unfail(): Arg "count" value is not an integer or out of range: ' .. raw_count)
    end

    local list = H.failure_group_key(group)
    local jids = redis.call('lrange', list, -count, -1)
    local found = {}
    for i, jid in ipairs(jids) do
      local f = redis.call('hmget', H.job_key(jid), 'jid', 'retries', 'priority', 'history', 'queue', 'throttles',
        'state', 'hn')
      -- (A job in the compact layout has no `jid` field: its `state` tells.)
      if not f[1] and not f[7] then
        error('Unfail(): Job ' .. jid .. ' does not exist')
      end
      found[i] = f
    end
    local work = H.queue_key(queue, 'work')
    for i, jid in ipairs(jids) do
      local f = found[i]
      H.history_append(jid, now, 'put', {q = queue}, f[4], f[8])
      if f[1] then
        redis.call('hset', H.job_key(jid), 'state', 'waiting', 'worker', '', 'expires', 0,
          'queue', queue, 'remaining', tonumber(f[2]) or 5)
      else
        local retries = f[2] or '5'
        H.job_write_compact(H.job_key(jid), true, {'state', 'waiting', 'worker', '', 'expires', '0',
          'queue', queue, 'retries', retries, 'remaining', H.lua_text(tonumber(retries) or 5)})
      end
      local moved = H.throttles_moved(f[6], f[5] or '', queue)
      if moved then redis.call('hset', H.job_key(jid), 'throttles', moved) end
      redis.call('zadd', work, H.work_score(tonumber(f[3]) or 0, now), jid)
    end
    redis.call('ltrim', list, 0, -count - 1)
    if redis.call('llen', list) == 0 then
      redis.call('srem', H.key('failures'), group)
    end
    return #jids
  end end

  if name == 'stats' then return function(now, args)
    local queue = H.require_queue(args[1])
    local date = H.finite(args[2])
    if date == nil then
      error('Stats(): Arg "date" missing or not a number: ' .. tostring(args[2]))
    end
    local bin = H.day_bin(date)
    local fields = H.histogram_fields()
    local c = redis.call('hmget', H.stats_key('stats', bin, queue), 'retries', 'failed', 'failures')
    return cjson.encode({
      retries = tonumber(c[1] or 0),
      failed = tonumber(c[2] or 0),
      failures = tonumber(c[3] or 0),
      wait = H.timing_stats('wait', bin, queue, fields),
      run = H.timing_stats('run', bin, queue, fields),
    })
  end end
end
