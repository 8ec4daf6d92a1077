-- throttle.lua: named concurrency limits (the throttles of reqless-core,
-- with its command names and keys, so that reqless tools read them) and the
-- helpers pop, put, complete, fail, retry, cancel and timeout use to take
-- and give back their slots.
--
-- A throttle T is the hash ql:th:<T> (`id`, `maximum`; 0 or no hash is
-- unlimited), the set of its holders ql:th:<T>-locks (score 1) and the jobs
-- parked on it ql:th:<T>-pending (score: when parked). A queue's own
-- throttle has the id ql:q:<queue>. A job that names throttles stores the
-- list in its `throttles` field, its queue's throttle last; a job that names
-- none has no such field (its job object stays qless-core's, byte for byte)
-- and needs only its queue's throttle, which the core then looks at only
-- while that throttle is in use (its hash or its -locks set exists): a queue
-- nobody throttles pays nothing for throttles on its hot path.
--
-- Where the reference is wrong (see the README's "Throttles" section) this
-- core releases a re-put job's old slots, swaps the queue throttle when a
-- job moves on, marks re-admitted jobs `waiting`, re-admits parked jobs as
-- soon as a limit is raised or removed, and refuses a maximum that is not a
-- whole number of at least 0.

local function load_throttles()
  -- The maximum the core applies: the stored number, 0 (unlimited) when
  -- there is none or it is not a whole number >= 0 (throttle.set refuses
  -- such values; any client can HSET the hash).
  function H.throttle_maximum(id)
    local maximum = tonumber(redis.call('hget', H.throttle_key(id), 'maximum'))
    if maximum == nil or maximum < 0 or maximum % 1 ~= 0 then return 0 end
    return maximum
  end

  -- Whether one more job may hold T (its own lock would count too).
  function H.throttle_available(id)
    local maximum = H.throttle_maximum(id)
    return maximum == 0 or redis.call('zcard', H.throttle_key(id, 'locks')) < maximum
  end

  -- The throttles a job needs: its stored list, or (none named) its queue's.
  function H.job_throttles(stored, queue)
    if stored then
      local list = cjson.decode(stored)
      if type(list) == 'table' then return list end
    end
    if queue and queue ~= '' then return { H.queue_throttle(queue) } end
    return {}
  end

  -- The first throttle of `list` that is full, or nil.
  function H.throttle_full(list)
    for i = 1, #list do
      if not H.throttle_available(list[i]) then return list[i] end
    end
    return nil
  end

  -- Lock every throttle of `list` for `jid`, or none: nil when it got them
  -- all, else the first one that was full.
  function H.throttles_acquire(jid, list)
    local full = H.throttle_full(list)
    if full then return full end
    for i = 1, #list do redis.call('zadd', H.throttle_key(list[i], 'locks'), '1', jid) end
    return nil
  end

  -- Park a job that could not get `id`: out of the work set, onto id's
  -- pending set and its queue's -throttled set; state `throttled`, with a
  -- history entry when it was not throttled already.
  function H.throttle_park(jid, queue, id, now, state, legacy, hn)
    local when = H.score_text(now)
    redis.call('zadd', H.throttle_key(id, 'pending'), when, jid)
    redis.call('zadd', H.queue_key(queue, 'throttled'), when, jid)
    redis.call('zrem', H.queue_key(queue, 'work'), jid)
    if state ~= 'throttled' then
      redis.call('hset', H.job_key(jid), 'state', 'throttled')
      H.history_append(jid, now, 'throttled', {queue = queue}, legacy, hn)
    end
  end

  -- Re-admit parked jobs while T has free slots (10 at a time when
  -- unlimited): each goes back to the work set of its own queue, `waiting`,
  -- to compete at the next pop (it does not get the lock here). A parked
  -- jid whose job is gone is only dropped.
  function H.throttle_kick(id, now)
    local pending = H.throttle_key(id, 'pending')
    if redis.call('zcard', pending) == 0 then return end
    local maximum = H.throttle_maximum(id)
    local free = 10
    if maximum > 0 then free = maximum - redis.call('zcard', H.throttle_key(id, 'locks')) end
    if free < 1 then return end
    local jids = redis.call('zrange', pending, '0', H.int_text(free - 1))
    for _, jid in ipairs(jids) do
      local key = H.job_key(jid)
      local f = redis.call('hmget', key, 'queue', 'priority', 'state')
      if f[1] and f[3] == 'throttled' then
        redis.call('zrem', H.queue_key(f[1], 'throttled'), jid)
        redis.call('zadd', H.queue_key(f[1], 'work'), H.work_score(tonumber(f[2]) or 0, now), jid)
        redis.call('hset', key, 'state', 'waiting')
      end
    end
    H.call_chunked('zrem', pending, jids)
  end

  -- Let go of T for `jid` (its lock, or when it held none its place in the
  -- queue of T), then re-admit whom that makes room for.
  function H.throttle_release(id, jid, now)
    if redis.call('zrem', H.throttle_key(id, 'locks'), jid) == 0 then
      redis.call('zrem', H.throttle_key(id, 'pending'), jid)
    end
    H.throttle_kick(id, now)
  end

  function H.throttles_release(jid, list, now)
    for i = 1, #list do H.throttle_release(list[i], jid, now) end
  end

  -- `list` without the ids in the set `drop`, each id once, then `last`
  -- when given: the list as a job or template stores it.
  function H.throttle_list(list, drop, last)
    local out, seen = {}, {}
    for i = 1, #list do
      local id = tostring(list[i])
      if not seen[id] and not drop[id] then
        seen[id] = true
        out[#out + 1] = id
      end
    end
    if last ~= nil and #out > 0 then out[#out + 1] = last end
    return out
  end

  -- A stored list with the queue throttle of `from` swapped for that of
  -- `to` (a job that moves on takes its queue's slot rule with it), as
  -- text; nil when nothing changes.
  function H.throttles_moved(stored, from, to)
    if not stored or from == to then return nil end
    local old, new = H.queue_throttle(from), H.queue_throttle(to)
    local list = H.throttle_list(cjson.decode(stored), { [old] = true, [new] = true }, new)
    return encode(list)
  end

  -- After a limit changed: a queue's throttle starts counting the jobs that
  -- already run in it (while it was not in use, their pops recorded no
  -- lock), then parked jobs get the room there is.
  function H.throttle_changed(id, now)
    local queue_prefix = H.queue_throttle('')
    if string.sub(id, 1, #queue_prefix) == queue_prefix then
      local running = redis.call('zrange', H.queue_key(string.sub(id, #queue_prefix + 1), 'locks'), '0', '-1')
      local scores = {}
      for i = 1, #running do
        scores[2 * i - 1] = '1'
        scores[2 * i] = running[i]
      end
      H.call_chunked('zadd', H.throttle_key(id, 'locks'), scores)
    end
    H.throttle_kick(id, now)
  end
end

-- Checks of the throttle commands' arguments (nothing is written before).
local function load_throttle_args()
  function H.require_throttle(id)
    if id == nil or id == '' then error('Throttle(): no tid provided') end
    return id
  end

  function H.require_maximum(text)
    local maximum = H.finite(text)
    if maximum == nil or maximum < 0 or maximum % 1 ~= 0 then
      error('Throttle(): Arg "maximum" must be a whole number of at least 0: ' .. tostring(text))
    end
    return maximum
  end

  -- JSON array text of a set's members: `[]` when none (cjson writes {}).
  function H.member_list(key)
    local members = redis.call('zrange', key, '0', '-1')
    if #members == 0 then return '[]' end
    return encode(members)
  end

  function H.throttle_info(id)
    local maximum = tonumber(redis.call('hget', H.throttle_key(id), 'maximum')) or 0
    return encode({ id = id, maximum = maximum, ttl = redis.call('ttl', H.throttle_key(id)) })
  end

  function H.throttle_store(id, maximum, expiration, now)
    local key = H.throttle_key(id)
    redis.call('hset', key, 'id', id, 'maximum', H.int_text(maximum))
    if expiration > 0 then redis.call('expire', key, H.int_text(math.ceil(expiration))) end
    H.throttle_changed(id, now)
  end
end

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function throttle_commands(name)
  -- throttle.set <now> <tid> <maximum> [<expiration>]: an expiration of 0
  -- or none leaves the TTL as it was.
  if name == 'throttle.set' then return function(now, args)
    local id = H.require_throttle(args[1])
    local maximum = H.require_maximum(args[2])
    local expiration = 0
    if args[3] ~= nil then
      expiration = H.number_arg(args[3], 'Throttle(): Arg "expiration" not a number: ')
    end
    H.throttle_store(id, maximum, expiration, now)
    return nil
  end end

  if name == 'throttle.get' then return function(now, args)
    return H.throttle_info(H.require_throttle(args[1]))
  end end

  -- throttle.ttl <now> <tid>: the TTL alone (-1 none, -2 no limit stored),
  -- as the Ruby client of the throttle branches asks for it.
  if name == 'throttle.ttl' then return function(now, args)
    return redis.call('ttl', H.throttle_key(H.require_throttle(args[1])))
  end end

  -- Deletes the limit only: holders and parked jobs stay, and parked jobs
  -- get the room that makes at once.
  if name == 'throttle.delete' then return function(now, args)
    local id = H.require_throttle(args[1])
    redis.call('del', H.throttle_key(id))
    H.throttle_kick(id, now)
    return nil
  end end

  if name == 'throttle.locks' then return function(now, args)
    return H.member_list(H.throttle_key(H.require_throttle(args[1]), 'locks'))
  end end

  if name == 'throttle.pending' then return function(now, args)
    return H.member_list(H.throttle_key(H.require_throttle(args[1]), 'pending'))
  end end

  -- throttle.release <now> <tid> <jid>...: the jobs themselves are left as
  -- they are (a released holder keeps running).
  if name == 'throttle.release' then return function(now, args)
    local id = H.require_throttle(args[1])
    for i = 2, #args do H.throttle_release(id, args[i], now) end
    return nil
  end end

  if name == 'queue.throttle.get' then return function(now, args)
    return H.throttle_info(H.queue_throttle(H.require_queue(args[1])))
  end end

  if name == 'queue.throttle.set' then return function(now, args)
    local id = H.queue_throttle(H.require_queue(args[1]))
    H.throttle_store(id, H.require_maximum(args[2]), 0, now)
    return nil
  end end
end

-- Rate limits: at most `<queue>-rate-limit` jobs of a queue start in any
-- `<queue>-rate-window` seconds (default 1), across all workers. The starts
-- of the last window are the sorted set ql:q:<queue>-starts (score: when);
-- pop trims its count to the room left, so jobs over the limit simply stay
-- waiting. Read only when the option is set: other queues pay one more
-- field of the config read they already make.
local function load_rate_limit()
  function H.rate_room(queue, now, rate_name, window_name)
    local limit = math.floor(H.config_number(rate_name, 0))
    local window = H.config_number(window_name, 1)
    if window <= 0 then window = 1 end
    local key = H.queue_key(queue, 'starts')
    redis.call('zremrangebyscore', key, '-inf', H.score_text(now - window))
    local used = redis.call('zcard', key)
    return { key = key, window = window, now = now, room = math.max(0, limit - used) }
  end

  -- pop.raw's reply when the limit allows no start now but jobs wait: the
  -- pair `wait`, seconds until the oldest start of the window leaves it
  -- (qless-core's pop replies as for an empty queue). An empty queue gets
  -- the usual empty reply, so that an idle worker keeps its own pace.
  function H.rate_wait_reply(queue, rate)
    if redis.call('exists', H.queue_key(queue, 'work')) == 0 then return {} end
    local oldest = redis.call('zrange', rate.key, '0', '0', 'WITHSCORES')
    local wait = 0
    if oldest[2] then wait = math.max(0, tonumber(oldest[2]) + rate.window - rate.now) end
    return { 'wait', string.format('%.17g', wait) }
  end

  function H.rate_record(queue, now, rate, jids)
    -- (The members hold the score's %.17g text: not score_text, which may
    -- give the client's own text of `now`.)
    local when = string.format('%.17g', now)
    local scores = {}
    for i = 1, #jids do
      scores[2 * i - 1] = when
      scores[2 * i] = when .. ' ' .. jids[i]
    end
    H.call_chunked('zadd', rate.key, scores)
    redis.call('expire', rate.key, H.int_text(math.ceil(rate.window) + 1))
  end
end
