-- recurring.lua: recurring-job templates (recur, unrecur, recur.get,
-- recur.update, recur.tag, recur.untag) and the spawning of due occurrences
-- (recur_spawn, called by pop and peek in queue.lua).
--
-- A template is the hash ql:r:<jid> plus a member of ql:q:<queue>-recur whose
-- score is the next occurrence; the next run time is nowhere else. Children
-- are ordinary jobs named <jid>-<count>. Nothing here publishes events.

local function load_recur_util()
  function H.recur_jid(args)
    local jid = args[1]
    if jid == nil then error('Recurring(): no jid provided') end
    return jid
  end

  -- A template's interval must be a positive finite number: with 0, a
  -- negative or nan interval the next occurrence never moves past `now`, and
  -- every pop and peek spawned as many children as it could.
  function H.require_interval(interval)
    if not (interval > 0) then error('Recur(): Arg "interval" must be greater than 0') end
    return interval
  end

  -- recur.update field handlers: each checks its value and returns the write
  -- to make. Every pair is checked before the first write (the reference
  -- wrote each pair before checking the next); the writes then run left to
  -- right, each seeing the ones before it, as the reference's did.
  H.recur_updates = {}

  local function store(field, value)
    return function(now, jid, key) redis.call('hset', key, field, value) end
  end

  function H.recur_updates.priority(value)
    return store('priority', H.number_arg(value, 'Recur(): Arg "priority" must be a number: '))
  end

  function H.recur_updates.retries(value)
    local retries = H.number_arg(value, 'Recur(): Arg "retries" must be a number: ')
    H.require_count(retries, 'Recur(): Arg "retries"', value)
    return store('retries', retries)
  end

  -- The next occurrence is shifted by the change of interval, not recomputed.
  function H.recur_updates.interval(value)
    local interval = H.require_interval(H.number_arg(value, 'Recur(): Arg "interval" must be a number: '))
    return function(now, jid, key)
      local current = redis.call('hmget', key, 'queue', 'interval')
      redis.call('zincrby', H.queue_key(current[1], 'recur'), interval - tonumber(current[2]), jid)
      redis.call('hset', key, 'interval', interval)
    end
  end

  function H.recur_updates.data(value)
    H.decode_json_arg(value, 'Recur(): Arg "data" is not JSON-encoded: ')
    return store('data', value)
  end

  function H.recur_updates.klass(value)
    return store('klass', value)
  end

  -- Moves the template's current score to the new queue's recur set.
  function H.recur_updates.queue(value)
    return function(now, jid, key)
      local old_set = H.queue_key(redis.call('hget', key, 'queue'), 'recur')
      local score = redis.call('zscore', old_set, jid)
      redis.call('zrem', old_set, jid)
      redis.call('zadd', H.queue_key(value, 'recur'), score, jid)
      local f = redis.call('hmget', key, 'queue', 'throttles')
      local moved = H.throttles_moved(f[2], f[1], value)
      if moved then redis.call('hset', key, 'throttles', moved) end
      redis.call('hset', key, 'queue', value)
      H.remember_queue(value, now)
    end
  end

  function H.recur_updates.backlog(value)
    local backlog = H.number_arg(value, 'Recur(): Arg "backlog" not a number: ')
    H.require_count(backlog, 'Recur(): Arg "backlog"', value)
    return store('backlog', backlog)
  end

  -- Stored as given, without the queue's throttle added: reqless-core does
  -- so, and its tests pin it. An empty list removes the field.
  function H.recur_updates.throttles(value)
    local list = H.json_list(value, 'Recur(): Arg "throttles" not JSON: ')
    return function(now, jid, key)
      if #list == 0 then
        redis.call('hdel', key, 'throttles')
      else
        redis.call('hset', key, 'throttles', encode(H.throttle_list(list, {}, nil)))
      end
    end
  end
end

local function load_recur_spawn()
  -- Spawn the due occurrences of the queue's templates, at most `budget`
  -- children in all (the budget is shared by the templates, earliest next
  -- occurrence first). Called by pop and peek; returns how many it spawned.
  --
  -- Per template: the occurrence time starts at floor(score); a non-zero
  -- backlog skips occurrences so that at most backlog (+1) remain due; each
  -- child is stamped with its occurrence time (`time`, first history entry,
  -- work score) but tagged with `now`; the next occurrence is saved after every
  -- child, so a failure or budget cut-off resumes exactly where it stopped. A
  -- child overwrites any job of the same name field by field. Tags that are
  -- not a table make ipairs raise right after the count increment, exactly as
  -- the reference fails.
  function H.recur_spawn(queue, now, budget)
    if budget <= 0 then return 0 end
    local recur_set = H.queue_key(queue, 'recur')
    local due = redis.call('zrangebyscore', recur_set, '0', H.score_text(now), 'WITHSCORES', 'LIMIT', '0',
      H.int_text(budget))
    local moved = 0
    for i = 1, #due, 2 do
      local jid = due[i]
      local key = H.recur_key(jid)
      local t = redis.call('hmget', key, 'klass', 'data', 'priority', 'tags', 'retries',
        'interval', 'backlog', 'throttles')
      local klass, data, priority, tags_text, retries = t[1], t[2], t[3], t[4], t[5]
      local tags = cjson.decode(tags_text)
      local interval = tonumber(t[6])
      local backlog = tonumber(t[7] or 0)
      local score = math.floor(tonumber(due[i + 1]))
      -- A template stored by an older core with an interval that is not a
      -- positive number (recur.update took 0, -5 or nan) spawns nothing,
      -- rather than a full budget of children on every pop.
      if not (interval and interval > 0 and interval - interval == 0) then
        score = now + 1
      elseif backlog ~= 0 then
        local pending = (now - score) / interval
        if pending > backlog then
          score = score + math.ceil(pending - backlog) * interval
        end
      end
      if score <= now and moved < budget then
        local work_set = H.queue_key(queue, 'work')
        local base_score = tonumber(priority)
        local history_extra = { q = queue }
        while score <= now and moved < budget do
          local child = jid .. '-' .. redis.call('hincrby', key, 'count', 1)
          moved = moved + 1
          for _, tag in ipairs(tags) do H.tag_index_add(child, tag, now) end
          local child_key = H.job_key(child)
          -- A child overwrites a job of its name (the numbering restarts after
          -- unrecur). If that job is running, its worker is told that the
          -- job was taken from it, and its lock goes.
          local old = redis.call('hmget', child_key, 'state', 'worker', 'queue', 'throttles')
          if old[1] == 'running' and old[2] and old[2] ~= '' then
            if old[3] then redis.call('zrem', H.queue_key(old[3], 'locks'), child) end
            redis.call('zrem', H.worker_jobs_key(old[2]), child)
            H.announce_lock_lost(child, old[2])
          end
          redis.call('hset', child_key,
            'jid', child,
            'klass', klass,
            'data', data,
            'priority', priority,
            'tags', tags_text,
            'state', 'waiting',
            'worker', '',
            'expires', 0,
            'queue', queue,
            'retries', retries,
            'remaining', retries,
            'time', H.format_time(score),
            'spawned_from_jid', jid)
          -- Children take the template's throttles as they are, checked at pop.
          if t[8] then
            redis.call('hset', child_key, 'throttles', t[8])
          elseif old[4] then
            redis.call('hdel', child_key, 'throttles')
          end
          H.history_append(child, score, 'put', history_extra)
          redis.call('zadd', work_set, H.work_score(base_score, score), child)
          score = score + interval
          redis.call('zadd', recur_set, score, jid)
        end
      end
    end
    return moved
  end
end

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function recur_commands(name)
  -- recur <now> <queue> <jid> <klass> <data> <spec> [<interval> <offset>
  --   [<option> <value>]...]
  -- Every check runs before the first write, in the reference's order.
  if name == 'recur' then return function(now, args)
    local queue, jid, klass, data, spec = args[1], args[2], args[3], args[4], args[5]
    if queue == nil then error('Queue(): no queue name provided') end
    if jid == nil then error('RecurringJob On(): Arg "jid" missing') end
    if klass == nil then error('RecurringJob On(): Arg "klass" missing') end
    if spec == nil then error('RecurringJob On(): Arg "spec" missing') end
    H.decode_json_arg(data, 'RecurringJob On(): Arg "data" not JSON: ')
    if spec ~= 'interval' then error('Recur(): schedule type "' .. spec .. '" unknown') end
    local interval = H.number_arg(args[6], 'Recur(): Arg "interval" not a number: ')
    local offset = H.number_arg(args[7], 'Recur(): Arg "offset" not a number: ')
    H.require_interval(interval)
    -- Interval and offset are two arguments, so the parity of what follows
    -- them is the parity the reference checks.
    local options = H.parse_options(args, 8)
    local tags = {}
    if options['tags'] ~= nil then
      -- A list of tag names (the reference stored objects and scalars too; a
      -- scalar then broke every spawn of the template).
      local message = 'Recur(): Arg "tags" must be JSON string array: '
      tags = H.require_list(H.decode_json_arg(options['tags'], message), message .. options['tags'])
    end
    local priority = H.number_arg(options['priority'] or 0, 'Recur(): Arg "priority" not a number: ')
    local retries = H.number_arg(options['retries'] or 0, 'Recur(): Arg "retries" not a number: ')
    local backlog = H.number_arg(options['backlog'] or 0, 'Recur(): Arg "backlog" not a number: ')
    H.require_count(retries, 'Recur(): Arg "retries"', options['retries'])
    H.require_count(backlog, 'Recur(): Arg "backlog"', options['backlog'])
    local throttles = {}
    if options['throttles'] ~= nil then
      throttles = H.json_list(options['throttles'], 'Recur(): Arg "throttles" not JSON: ')
    end
    -- Option names recur takes: those of qless-core (priority, tags, retries,
    -- backlog: every client sends them); throttles (reqless clients and
    -- qless-ts); resources (qless-php, written for a
    -- qless-core fork: accepted and ignored, as qless-core ignores it). Any
    -- other name is a mistake the reference silently ignored.
    for option in pairs(options) do
      if option ~= 'priority' and option ~= 'tags' and option ~= 'retries' and option ~= 'backlog' and
          option ~= 'throttles' and option ~= 'resources' then
        error('Recur(): Unrecognized option "' .. option .. '"')
      end
    end
    -- Children are named <jid>-<n> and never collide, but a template jid
    -- follows the rule of every jid that enters the core.
    local suffix = H.reserved_suffix(jid)
    if suffix then error('Recur(): Arg "jid" may not end in "' .. suffix .. '": ' .. jid) end

    local key = H.recur_key(jid)
    local old = redis.call('hmget', key, 'count', 'queue')
    if old[2] then
      redis.call('zrem', H.queue_key(old[2], 'recur'), jid)
    end
    redis.call('hset', key,
      'jid', jid,
      'klass', klass,
      'data', data,
      'priority', priority,
      'tags', encode(tags),
      'state', 'recur',
      'queue', queue,
      'type', 'interval',
      'count', old[1] or 0,
      'interval', interval,
      'retries', retries,
      'backlog', backlog)
    -- Its throttles (the queue's own last) replace the old list; none: no
    -- field. Moved from another queue, it leaves that queue's throttle.
    local drop = { [H.queue_throttle(queue)] = true }
    if old[2] then drop[H.queue_throttle(old[2])] = true end
    local list = H.throttle_list(throttles, drop, H.queue_throttle(queue))
    if #list > 0 then
      redis.call('hset', key, 'throttles', encode(list))
    else
      redis.call('hdel', key, 'throttles')
    end
    redis.call('zadd', H.queue_key(queue, 'recur'), now + offset, jid)
    H.remember_queue(queue, now)
    return jid
  end end

  -- unrecur <now> <jid>: replies 1 whether or not the template existed.
  if name == 'unrecur' then return function(now, args)
    local jid = H.recur_jid(args)
    local key = H.recur_key(jid)
    local queue = redis.call('hget', key, 'queue')
    if queue then
      redis.call('zrem', H.queue_key(queue, 'recur'), jid)
      redis.call('del', key)
    end
    return 1
  end end

  -- recur.get <now> <jid>: the template as JSON (without `type` and the next
  -- run time), or nil.
  if name == 'recur.get' then return function(now, args)
    local jid = H.recur_jid(args)
    local f = redis.call('hmget', H.recur_key(jid), 'jid', 'klass', 'state', 'queue',
      'priority', 'interval', 'retries', 'count', 'data', 'tags', 'backlog', 'throttles')
    if not f[1] then return nil end
    local template = {
      jid = f[1],
      klass = f[2],
      state = f[3],
      queue = f[4],
      priority = tonumber(f[5]),
      interval = tonumber(f[6]),
      retries = tonumber(f[7]),
      count = tonumber(f[8]),
      data = f[9],
      tags = cjson.decode(f[10]),
      backlog = tonumber(f[11] or 0),
    }
    -- Only a template that names throttles shows them (see job_object).
    if f[12] then template.throttles = cjson.decode(f[12]) end
    return encode(template)
  end end

  -- recur.update <now> <jid> [<field> <value>]...
  if name == 'recur.update' then return function(now, args)
    local jid = H.recur_jid(args)
    local key = H.recur_key(jid)
    if redis.call('exists', key) ~= 1 then
      error('Recur(): No recurring job ' .. jid)
    end
    -- Fields: those of qless-core (priority, retries, interval, data, klass,
    -- queue, backlog) and throttles (reqless clients).
    local writes = {}
    for i = 2, #args, 2 do
      local field, value = args[i], args[i + 1]
      if value == nil then error('No value provided for ' .. field) end
      local update = H.recur_updates[field]
      if update == nil then error('Recur(): Unrecognized option "' .. field .. '"') end
      writes[#writes + 1] = update(value)
    end
    for i = 1, #writes do writes[i](now, jid, key) end
    return 1
  end end

  -- recur.tag <now> <jid> [<tag>]...: appends the tags the template lacked
  -- before the call (duplicates within the call are appended twice). Only the
  -- template changes; future children get the new list.
  if name == 'recur.tag' then return function(now, args)
    local jid = H.recur_jid(args)
    local key = H.recur_key(jid)
    local raw = redis.call('hget', key, 'tags')
    if not raw then error('Tag(): Job ' .. jid .. ' does not exist') end
    local tags = cjson.decode(raw)
    local present = {}
    for _, tag in ipairs(tags) do present[tag] = true end
    for i = 2, #args do
      if not present[args[i]] then tags[#tags + 1] = args[i] end
    end
    return H.store_tags(key, tags)
  end end

  -- recur.untag <now> <jid> [<tag>]...: removes every occurrence of each tag.
  if name == 'recur.untag' then return function(now, args)
    local jid = H.recur_jid(args)
    local key = H.recur_key(jid)
    local raw = redis.call('hget', key, 'tags')
    if not raw then error('Untag(): Job ' .. jid .. ' does not exist') end
    local tags = cjson.decode(raw)
    local removed = {}
    for i = 2, #args do removed[args[i]] = true end
    return H.store_tags(key, tags, removed)
  end end
end
