-- recurring.lua: recurring-job templates (recur, unrecur, recur.get,
-- recur.update, recur.tag, recur.untag) and the spawning of due occurrences
-- (recur_spawn, called by pop and peek in queue.lua).
--
-- A template is the hash ql:r:<jid> plus a member of ql:q:<queue>-recur whose
-- score is the next occurrence; the next run time is nowhere else. Children
-- are ordinary jobs named <jid>-<count>. Nothing here publishes events.
--
-- Two kinds of schedule, told apart by the hash's `type`: `interval` (the
-- qless-core one) and `cron` (qless-ts). A cron template keeps every field
-- an interval template has, `interval` being the gap between its last two
-- occurrences (what other clients show), plus fields they never read:
-- `cron` (the expression as written), `cron-fields` (the expression
-- compiled by the client, see lua/cron.lua), `timezone`, `zone-table` (the
-- zone's UTC offsets for the years ahead: Redis's Lua has no zone data),
-- `zone-until` and `zone-tzdata` (what the client needs to know when to
-- send a fresh table). A qless-core script spawning such a template would
-- fall back to its interval.

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

  -- A cron schedule as recur.update takes it: one JSON object, so that the
  -- expression, its zone and the zone's table change together. The same
  -- schedule with a fresh table (the client's refresh) keeps the next
  -- occurrence where the new table puts it, an overdue one included; a new
  -- schedule starts from `now`. An interval template becomes a cron one.
  function H.recur_updates.cron(value, now)
    local message = 'Recur(): Arg "cron" must be a JSON object {expression, fields, timezone, transitions}: '
    local spec = H.decode_json_arg(value, message)
    if type(spec) ~= 'table' then error(message .. value) end
    local transitions = spec['transitions']
    if type(transitions) == 'table' then transitions = cjson.encode(transitions) end
    local cron = H.check_cron(now, spec['fields'], transitions, spec['expression'], spec['timezone'],
      spec['until'], spec['tzdata'])
    return function(now, jid, key)
      local old = redis.call('hmget', key, 'queue', 'type', 'cron-fields', 'timezone')
      local recur_set = H.queue_key(old[1], 'recur')
      local from = now
      if old[2] == 'cron' and old[3] == cron.fields_text and old[4] == cron.timezone then
        local score = tonumber(redis.call('zscore', recur_set, jid))
        if score ~= nil then from = math.min(score - 1, now) end
      end
      local next, gap = H.cron_first_runs(cron, from)
      H.store_cron(key, cron, gap)
      redis.call('zadd', recur_set, H.score_text(next), jid)
    end
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

-- Cron templates: the checks of `recur` and `recur.update`, and the writes.
local function load_recur_cron()
  -- The cron arguments checked (the client parsed the expression and built
  -- the table; the core checks what it is handed, so another client cannot
  -- store a schedule that breaks pops). Returns what store_cron writes.
  function H.check_cron(now, fields_text, transitions_text, expression, timezone, until_text, tzdata)
    local fields = H.cron_decode_fields(fields_text)
    if fields == nil then
      error('Recur(): Arg "cron-fields" is not a compiled cron schedule: ' .. tostring(fields_text))
    end
    local transitions = H.cron_decode_transitions(transitions_text)
    if transitions == nil then
      error('Recur(): Arg "zone-table" is not a list of [utc_start, offset] pairs in ascending order: ' ..
        tostring(transitions_text))
    end
    if type(expression) ~= 'string' or expression == '' then
      error('Recur(): Arg "cron" (the expression as written) missing')
    end
    if type(timezone) ~= 'string' or timezone == '' then error('Recur(): Arg "timezone" missing') end
    local until_number = H.number_arg(until_text or 0, 'Recur(): Arg "zone-until" not a number: ')
    if tzdata ~= nil and type(tzdata) ~= 'string' then error('Recur(): Arg "zone-tzdata" must be a string') end
    local cron = {
      fields = fields, transitions = transitions, fields_text = fields_text, transitions_text = transitions_text,
      expression = expression, timezone = timezone, ['until'] = until_number, tzdata = tzdata or '',
    }
    -- The parser refuses expressions that never run; one that no longer
    -- runs after `now` (within the matcher's 50 years) is refused as well.
    if H.cron_next(fields, transitions, now) == nil then
      error('Recur(): cron schedule "' .. expression .. '" never runs after ' .. H.lua_text(now))
    end
    return cron
  end

  -- The first occurrence after `from` and the gap to the one after it (the
  -- template's `interval`), or an error when there is none.
  function H.cron_first_runs(cron, from)
    local next = H.cron_next(cron.fields, cron.transitions, from)
    if next == nil then error('Recur(): cron schedule "' .. cron.expression .. '" never runs again') end
    local after = H.cron_next(cron.fields, cron.transitions, next)
    return next, (after or next + 1) - next
  end

  -- Writes the cron fields of a template (the others are the caller's).
  function H.store_cron(key, cron, gap)
    redis.call('hset', key,
      'type', 'cron',
      'interval', gap,
      'cron', cron.expression,
      'cron-fields', cron.fields_text,
      'timezone', cron.timezone,
      'zone-table', cron.transitions_text,
      'zone-until', cron['until'],
      'zone-tzdata', cron.tzdata)
  end

  -- recur.get of a cron template: qless-core's fields (`interval` is the gap
  -- between its last two occurrences), then its schedule added: `cron`,
  -- `timezone`, and `zone_until`/`zone_tzdata`, which tell its client when
  -- the zone's table should be sent again.
  function H.add_cron_fields(jid, reply)
    local c = redis.call('hmget', H.recur_key(jid), 'cron', 'timezone', 'zone-until', 'zone-tzdata')
    reply.cron = c[1]
    reply.timezone = c[2]
    reply.zone_until = tonumber(c[3]) or 0
    reply.zone_tzdata = c[4] or ''
  end

  -- What a template that is no longer cron drops.
  function H.drop_cron(key)
    redis.call('hdel', key, 'cron', 'cron-fields', 'timezone', 'zone-table', 'zone-until', 'zone-tzdata')
  end
end

local function load_recur_spawn()
  -- Spawn the due occurrences of the queue's templates, at most `budget`
  -- children in all (the budget is shared by the templates, earliest next
  -- occurrence first). Called by pop and peek; returns how many it spawned.
  --
  -- Per template: the occurrence time starts at floor(score); a non-zero
  -- backlog skips occurrences so that at most backlog (+1) remain due (for
  -- a cron template: the backlog most recent ones, see cron_skip_backlog); each
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
      -- A cron template steps from occurrence to occurrence by its schedule
      -- (false: its stored schedule is damaged, and it spawns nothing). Read
      -- apart from the fields above: only a template that is due pays it.
      local c = redis.call('hmget', key, 'type', 'cron-fields', 'zone-table')
      local cron = nil
      if c[1] == 'cron' then cron = H.cron_schedule(c[2], c[3]) or false end
      if cron == false then
        score = now + 1
      elseif cron then
        if backlog ~= 0 then score = H.cron_skip_backlog(cron, score, now, backlog) end
      -- A template stored by an older core with an interval that is not a
      -- positive number (recur.update took 0, -5 or nan) spawns nothing,
      -- rather than a full budget of children on every pop.
      elseif not (interval and interval > 0 and interval - interval == 0) then
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
          local old = redis.call('hmget', child_key, 'state', 'worker', 'queue', 'throttles', 'jid', 'hn')
          if old[1] == 'running' and old[2] and old[2] ~= '' then
            if old[3] then redis.call('zrem', H.queue_key(old[3], 'locks'), child) end
            redis.call('zrem', H.worker_jobs_key(old[2]), child)
            H.announce_lock_lost(child, old[2])
          end
          -- The layout as for put: a job of the child's name keeps its own,
          -- a new child follows job-layout (its history in its hash unless
          -- a `-history` list is there already).
          local compact, hn = false, old[6]
          if old[1] then
            compact = not old[5]
            -- (Its implicit put entry is made of the fields overwritten here.)
            if compact then hn = H.history_settle(child, hn) end
          elseif H.compact_layout() then
            compact = true
            if redis.call('exists', H.history_key(child)) == 0 then hn = 0 end
          end
          -- The same fields in both layouts; the spec layout adds `jid`,
          -- the compact one leaves out what holds a default.
          local fields = {
            'klass', klass,
            'data', data,
            'priority', priority,
            'tags', tags_text,
            'state', 'waiting',
            'worker', '',
            'expires', '0',
            'queue', queue,
            'retries', retries,
            'remaining', retries,
            'time', compact and H.compact_time(score) or H.format_time(score),
            'spawned_from_jid', jid}
          if compact then
            H.job_write_compact(child_key, old[1] ~= false, fields)
          else
            redis.call('hset', child_key, 'jid', child, unpack(fields))
          end
          -- Children take the template's throttles as they are, checked at pop.
          if t[8] then
            redis.call('hset', child_key, 'throttles', t[8])
          elseif old[4] then
            redis.call('hdel', child_key, 'throttles')
          end
          H.history_append(child, score, 'put', history_extra, nil, hn)
          redis.call('zadd', work_set, H.work_score(base_score, score), child)
          if cron then
            -- No run within the matcher's years: never due again.
            local last = score
            score = H.cron_next(cron.fields, cron.transitions, score) or math.huge
            if score < math.huge then interval = score - last end
          else
            score = score + interval
          end
          redis.call('zadd', recur_set, score, jid)
        end
        -- What other clients read as the interval: the latest gap.
        if cron then redis.call('hset', key, 'interval', interval) end
      end
    end
    return moved
  end
end

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function recur_commands(name)
  -- recur <now> <queue> <jid> <klass> <data> interval <interval> <offset>
  --   [<option> <value>]...
  -- recur <now> <queue> <jid> <klass> <data> cron <cron-fields> <zone-table>
  --   cron <expression> timezone <zone> [<option> <value>]...
  -- Every check runs before the first write, in the reference's order; a
  -- cron schedule's own checks come after the options'. A cron template's
  -- first occurrence is its first run after `now`.
  if name == 'recur' then return function(now, args)
    local queue, jid, klass, data, spec = args[1], args[2], args[3], args[4], args[5]
    if queue == nil then error('Queue(): no queue name provided') end
    if jid == nil then error('RecurringJob On(): Arg "jid" missing') end
    if klass == nil then error('RecurringJob On(): Arg "klass" missing') end
    if spec == nil then error('RecurringJob On(): Arg "spec" missing') end
    H.decode_json_arg(data, 'RecurringJob On(): Arg "data" not JSON: ')
    if spec ~= 'interval' and spec ~= 'cron' then error('Recur(): schedule type "' .. spec .. '" unknown') end
    local interval, offset
    if spec == 'interval' then
      interval = H.number_arg(args[6], 'Recur(): Arg "interval" not a number: ')
      offset = H.number_arg(args[7], 'Recur(): Arg "offset" not a number: ')
      H.require_interval(interval)
    end
    -- Interval and offset (or a cron template's fields and table) are two
    -- arguments, so the parity of what follows them is the parity the
    -- reference checks.
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
    -- qless-ts); resources (qless-php, written for a qless-core fork:
    -- accepted and ignored, as qless-core ignores it); and for a cron
    -- schedule its expression, zone and table details. Any other name is a
    -- mistake the reference silently ignored.
    for option in pairs(options) do
      if option ~= 'priority' and option ~= 'tags' and option ~= 'retries' and option ~= 'backlog' and
          option ~= 'throttles' and option ~= 'resources' and not (spec == 'cron' and (option == 'cron' or
          option == 'timezone' or option == 'zone-until' or option == 'zone-tzdata')) then
        error('Recur(): Unrecognized option "' .. option .. '"')
      end
    end
    -- Children are named <jid>-<n> and never collide, but a template jid
    -- follows the rule of every jid that enters the core.
    local suffix = H.reserved_suffix(jid)
    if suffix then error('Recur(): Arg "jid" may not end in "' .. suffix .. '": ' .. jid) end
    local cron, first
    if spec == 'cron' then
      cron = H.check_cron(now, args[6], args[7], options['cron'], options['timezone'], options['zone-until'],
        options['zone-tzdata'])
      first, interval = H.cron_first_runs(cron, now)
    else
      first = now + offset
    end

    local key = H.recur_key(jid)
    local old = redis.call('hmget', key, 'count', 'queue', 'type')
    if old[2] then
      redis.call('zrem', H.queue_key(old[2], 'recur'), jid)
    end
    if old[3] == 'cron' and not cron then H.drop_cron(key) end
    redis.call('hset', key,
      'jid', jid,
      'klass', klass,
      'data', data,
      'priority', priority,
      'tags', encode(tags),
      'state', 'recur',
      'queue', queue,
      'type', spec,
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
    if cron then H.store_cron(key, cron, interval) end
    redis.call('zadd', H.queue_key(queue, 'recur'), first, jid)
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
    local key = H.recur_key(jid)
    local f = redis.call('hmget', key, 'jid', 'klass', 'state', 'queue',
      'priority', 'interval', 'retries', 'count', 'data', 'tags', 'backlog', 'throttles')
    if not f[1] then return nil end
    -- An interval template's reply is exactly qless-core's (the same keys
    -- added in the same order, so the same encoding); throttles and a cron
    -- schedule are added after them, for templates that have them.
    local reply = {
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
    if f[12] then reply.throttles = cjson.decode(f[12]) end
    if redis.call('hget', key, 'type') == 'cron' then H.add_cron_fields(jid, reply) end
    return encode(reply)
  end end

  -- recur.update <now> <jid> [<field> <value>]...
  if name == 'recur.update' then return function(now, args)
    local jid = H.recur_jid(args)
    local key = H.recur_key(jid)
    if redis.call('exists', key) ~= 1 then
      error('Recur(): No recurring job ' .. jid)
    end
    -- Fields: those of qless-core (priority, retries, interval, data, klass,
    -- queue, backlog), throttles (reqless clients) and cron (qless-ts).
    -- A cron template's gaps come from its schedule: shifting them by an
    -- interval would mean nothing (give it a new schedule with `cron`).
    local is_cron = redis.call('hget', key, 'type') == 'cron'
    local writes = {}
    for i = 2, #args, 2 do
      local field, value = args[i], args[i + 1]
      if value == nil then error('No value provided for ' .. field) end
      local update = H.recur_updates[field]
      if update == nil then error('Recur(): Unrecognized option "' .. field .. '"') end
      if field == 'interval' and is_cron then
        error('Recur(): ' .. jid .. ' runs on a cron schedule; change it with "cron", not "interval"')
      end
      writes[#writes + 1] = update(value, now)
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
