-- job.lua: commands that act on one job (or a list of jobs) by jid.
--
-- Owns: complete, fail, retry, heartbeat, cancel, timeout, priority, depends,
-- log, get, multiget; and the job-level machinery queue.lua shares: removal
-- from a queue's sets, dependency linking and release, failure records,
-- retries-exhausted failures and completed-job retention.
--
-- Every command checks all of its arguments before its first write (the
-- reference's own write-then-fail spots are rejected up front instead).

local function load_job_util()
  function H.require_jid(jid)
    if jid == nil then error('Job(): no jid provided') end
    return jid
  end

  -- ZREM the jid from a queue's work, locks and scheduled sets (and, when asked,
  -- its depends set).
  function H.leave_queue(queue, jid, with_depends)
    redis.call('zrem', H.queue_key(queue, 'work'), jid)
    redis.call('zrem', H.queue_key(queue, 'locks'), jid)
    redis.call('zrem', H.queue_key(queue, 'scheduled'), jid)
    if with_depends then
      redis.call('zrem', H.queue_key(queue, 'depends'), jid)
      redis.call('zrem', H.queue_key(queue, 'throttled'), jid)
    end
  end

end

-- Dependency links: what put, complete ... next and depends ... on check
-- before they make a job wait for others, and the linking itself. Loaded
-- only by calls that name dependencies.
local function load_links()
  -- Refuse a key that holds another type than `wanted`. Only a job whose
  -- jid ends in a reserved suffix (put before such jids were refused) puts
  -- its hash where another job's set or list belongs.
  function H.require_key_type(context, key, wanted)
    local kind = redis.call('type', key)['ok']
    if kind ~= 'none' and kind ~= wanted then
      error(context .. ': Key ' .. key .. ' is a ' .. kind .. ', not a ' .. wanted ..
        ' (it belongs to a job whose jid ends in a reserved suffix)')
    end
  end

  -- The set of jobs that wait for `jid`, directly or through others: a walk
  -- of the -dependents sets, which only hold unfinished links (a job that
  -- completes releases and deletes its own), so finished work is never
  -- visited. Each job is visited once, even where old data holds a cycle.
  function H.waiting_for(jid)
    local seen, pending = {}, { jid }
    local i = 1
    while pending[i] ~= nil do
      local waiting = redis.call('smembers', H.dependents_key(pending[i]))
      for k = 1, #waiting do
        local dependent = waiting[k]
        if not seen[dependent] then
          seen[dependent] = true
          pending[#pending + 1] = dependent
        end
      end
      i = i + 1
    end
    return seen
  end

  -- The jobs of `list` (the jids of a depends argument) that `jid` is to
  -- wait for: those that exist and are not complete, as the reference links
  -- them. Checked first, writing nothing: no listed jid ends in a reserved
  -- suffix (`label` names the argument in the message: `Arg "depends" may
  -- not hold a jid ending in` or `Arg "jid" may not end in`), none is `jid`
  -- itself, each one's keys hold what linking writes to, and none already
  -- waits for `jid`: each of those would leave jobs waiting forever.
  function H.dependencies_to_link(context, jid, list, label)
    for i = 1, #list do
      local dep = tostring(list[i])
      local suffix = H.reserved_suffix(dep)
      if suffix then error(context .. ': ' .. label .. ' "' .. suffix .. '": ' .. dep) end
      if dep == jid then error(context .. ': Job ' .. jid .. ' may not depend on itself') end
    end
    local linked = {}
    for i = 1, #list do
      local dep = tostring(list[i])
      local key = H.job_key(dep)
      H.require_key_type(context, key, 'hash')
      local state = redis.call('hget', key, 'state')
      if state and state ~= 'complete' then
        H.require_key_type(context, H.dependents_key(dep), 'set')
        linked[#linked + 1] = dep
      end
    end
    if #linked > 0 then
      local waiting = H.waiting_for(jid)
      for i = 1, #linked do
        if waiting[linked[i]] then
          error(context .. ': Job ' .. jid .. ' may not depend on ' .. linked[i] .. ', which waits for it')
        end
      end
    end
    return linked
  end

  -- Make `jid` wait for each of `deps` (as dependencies_to_link returned
  -- them), on both sides.
  function H.link_dependencies(jid, deps)
    for i = 1, #deps do
      redis.call('sadd', H.dependents_key(deps[i]), jid)
    end
    H.call_chunked('sadd', H.dependencies_key(jid), deps)
  end
end

local function load_depends()
  -- Move a job that no longer waits on anything into its queue's work set.
  function H.depends_to_work(jid, now)
    local key = H.job_key(jid)
    local f = redis.call('hmget', key, 'queue', 'priority')
    if f[1] then
      redis.call('zrem', H.queue_key(f[1], 'depends'), jid)
      redis.call('zadd', H.queue_key(f[1], 'work'), H.work_score(tonumber(f[2]) or 0, now), jid)
      redis.call('hset', key, 'state', 'waiting')
    end
  end
end

local function load_failures()
  -- The `failure` field. The constructor's key order matches the reference, so
  -- the stored text is the same byte for byte.
  function H.failure_text(group, message, when, worker)
    return cjson.encode({
      ['group'] = group,
      ['message'] = message,
      ['when'] = when,
      ['worker'] = worker,
    })
  end

  -- Take a failed job out of its failure group's list (dropping the group when
  -- it empties). Returns the decoded failure so callers can adjust stats.
  function H.leave_failure_group(jid, failure)
    local decoded = cjson.decode(failure)
    local list = H.failure_group_key(decoded['group'])
    redis.call('lrem', list, 0, jid)
    if redis.call('llen', list) == 0 then
      redis.call('srem', H.key('failures'), decoded['group'])
    end
    return decoded
  end

  -- The writes shared by retry- and stall-exhaustion (events are the caller's):
  -- history, state, failure record, failure group and the day's counters.
  -- `compact`: the job is in the compact layout (see job_write_compact);
  -- `hn`: as for history_append.
  function H.mark_exhausted(jid, now, group, failure, stats_queue, legacy, compact, hn)
    H.history_append(jid, now, 'failed', {['group'] = group}, legacy, hn)
    if compact then
      H.job_write_compact(H.job_key(jid), true, {'state', 'failed', 'worker', '', 'expires', '',
        'failure', failure})
    else
      redis.call('hset', H.job_key(jid), 'state', 'failed', 'worker', '', 'expires', '',
        'failure', failure)
    end
    redis.call('sadd', H.key('failures'), group)
    redis.call('lpush', H.failure_group_key(group), jid)
    H.stats_incr(stats_queue, now, 'failures', 1)
    H.stats_incr(stats_queue, now, 'failed', 1)
  end
end

local function load_retention()
  -- Completed-job retention (§9): by age, then by count.
  function H.purge_completed(jids)
    for _, jid in ipairs(jids) do
      local key = H.job_key(jid)
      local tags = cjson.decode(redis.call('hget', key, 'tags') or '{}')
      for _, tag in ipairs(tags) do H.tag_index_remove(jid, tag) end
      redis.call('del', key, H.history_key(jid))
    end
  end

  function H.apply_retention(jid, now)
    local max_age = H.config_number('jobs-history', 604800)
    local max_count = H.config_number('jobs-history-count', 50000)
    local completed = H.key('completed')
    local added = redis.call('zadd', completed, H.score_text(now), jid)
    local cutoff = now - max_age
    local known = completed_known
    completed_known = nil
    -- By age. Skipped when this call already found nothing in [0, c] for a
    -- cutoff c at least this one, the only new member being this job, scored
    -- `now`, which is above the cutoff when max-age is positive.
    if not (known and max_age > 0 and cutoff <= known.cutoff) then
      local old = redis.call('zrangebyscore', completed, '0', cutoff)
      if #old > 0 then
        H.purge_completed(old)
        redis.call('zremrangebyscore', completed, '0', cutoff)
        known = nil
      end
    end
    -- By count: everything but the max_count highest. For a whole, non-negative
    -- count, the set's size tells whether anything goes (ZCARD, or what this
    -- call knows of it plus the member just added).
    if max_count < 0 or max_count % 1 ~= 0 then
      local last = -1 - max_count
      local old = redis.call('zrange', completed, '0', H.int_text(last))
      if #old > 0 then
        H.purge_completed(old)
        redis.call('zremrangebyrank', completed, '0', H.int_text(last))
      end
      return
    end
    local size
    if known and known.size then
      size = known.size + added
    else
      size = redis.call('zcard', completed)
    end
    if size > max_count then
      local last = -1 - max_count
      local old = redis.call('zrange', completed, '0', H.int_text(last))
      H.purge_completed(old)
      redis.call('zremrangebyrank', completed, '0', H.int_text(last))
      size = max_count
    end
    completed_known = { cutoff = cutoff, size = size }
  end

  -- Release the jobs waiting on a job that just completed for good (§8.2).
  function H.release_dependents(jid, now)
    local dependents_key = H.dependents_key(jid)
    local dependents = redis.call('smembers', dependents_key)
    for _, dep in ipairs(dependents) do
      local dep_key = H.job_key(dep)
      local dep_dependencies = H.dependencies_key(dep)
      redis.call('srem', dep_dependencies, jid)
      if redis.call('scard', dep_dependencies) == 0 then
        local f = redis.call('hmget', dep_key, 'queue', 'priority', 'scheduled')
        local queue = f[1]
        if queue then
          redis.call('zrem', H.queue_key(queue, 'depends'), dep)
          if f[3] then
            redis.call('zadd', H.queue_key(queue, 'scheduled'), f[3], dep)
            redis.call('hset', dep_key, 'state', 'scheduled')
            redis.call('hdel', dep_key, 'scheduled')
          else
            redis.call('zadd', H.queue_key(queue, 'work'), H.work_score(tonumber(f[2]) or 0, now), dep)
            redis.call('hset', dep_key, 'state', 'waiting')
          end
        end
      end
    end
    if #dependents > 0 then redis.call('del', dependents_key) end
  end
end

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function job_commands(name)
  ----------------------------------------------------------------------------
  -- complete
  ----------------------------------------------------------------------------

  if name == 'complete' then return function(now, args)
    local jid = H.require_jid(args[1])
    local worker, queue, data = args[2], args[3], args[4]
    if worker == nil then error('Complete(): Arg "worker" missing') end
    if queue == nil then error('Complete(): Arg "queue" missing') end
    H.decode_json_arg(data, 'Complete(): Arg "data" missing or not JSON: ')
    local options = H.parse_pairs(args, 5)
    local nextq = options['next']
    local delay = assert(tonumber(options['delay'] or 0))
    if delay - delay ~= 0 then error('Complete(): Arg "delay" not a number: ' .. options['delay']) end
    local depends = {}
    if options['depends'] ~= nil then
      depends = H.decode_json_arg(options['depends'], 'Complete(): Arg "depends" not JSON: ')
    end
    if options['delay'] and nextq == nil then
      error('Complete(): "delay" cannot be used without a "next".')
    end
    if options['depends'] and nextq == nil then
      error('Complete(): "depends" cannot be used without a "next".')
    end
    if options['depends'] ~= nil then
      H.require_list(depends, 'Complete(): Arg "depends" not JSON: ' .. options['depends'] .. ' (must be a JSON array)')
    end

    local key = H.job_key(jid)
    -- (`priority` only matters to an advance, which reads it then: every
    -- field of a reply costs a script nearly as much as a small command.)
    local f = redis.call('hmget', key, 'worker', 'state', 'retries', 'queue', 'time', 'history', 'throttles',
      'jid')
    local job_worker, state, current_queue = f[1], f[2], f[4]
    -- A job in the compact layout has no `jid` field and stores no empty
    -- `worker` or default `retries` (see job_fill_defaults); only such a job
    -- may keep its history in its hash (`hn`, read for it alone: see pop).
    local compact = state and not f[8]
    if compact then
      job_worker = job_worker or ''
      f[3] = f[3] or '5'
    end
    if job_worker == false then
      error('Complete(): Job ' .. jid .. ' does not exist')
    elseif state ~= 'running' then
      error('Complete(): Job ' .. jid .. ' is not currently running: ' .. tostring(state))
    elseif job_worker ~= worker then
      error('Complete(): Job ' .. jid .. ' has been handed out to another worker: ' .. job_worker)
    elseif queue ~= current_queue then
      error('Complete(): Job ' .. jid .. ' running in another queue: ' .. tostring(current_queue))
    end
    -- An advance that waits for other jobs checks them before any write.
    local to_link = false
    if nextq and #depends > 0 then
      to_link = H.dependencies_to_link('Complete()', jid, depends, 'Arg "depends" may not hold a jid ending in')
    end
    -- Every option complete may need, in one read, with those of the pop a
    -- worker usually sends next in the same call (see `multi`).
    H.config_prefetch(H.queue_options(queue).for_complete)

    -- Tracking, dependents and scheduled jobs in the queue are the exception:
    -- one EXISTS tells when the tracked lookup, the release of dependents and
    -- the removal from the queue's scheduled set would find nothing. (A
    -- running job is seldom in its queue's scheduled or work set, but quirks
    -- can leave it there: see "leftovers" in test/core.complete.test.ts.)
    -- The locks of its queue's throttle are one more such key: a job that
    -- names no throttle holds a slot there only while it is in use.
    local linked = redis.call('exists', H.key('tracked'), H.dependents_key(jid), H.queue_key(queue, 'scheduled'),
      H.throttle_key(H.queue_throttle(queue), 'locks')) > 0
    local hn = H.history_append(jid, now, 'done', nil, f[6], compact and redis.call('hget', key, 'hn'))
    redis.call('zrem', H.queue_key(queue, 'work'), jid)
    redis.call('zrem', H.queue_key(queue, 'locks'), jid)
    if linked then redis.call('zrem', H.queue_key(queue, 'scheduled'), jid) end
    if f[7] or linked then H.throttles_release(jid, H.job_throttles(f[7], queue), now) end
    H.record_sample('run', queue, now, H.elapsed(now, f[5]))
    redis.call('zrem', H.worker_jobs_key(worker), jid)
    if not linked then tracking = false end
    if linked and H.is_tracked(jid) then H.publish('completed', jid) end
    local remaining = H.small_number(f[3])

    if nextq then
      H.publish('log', H.event_advanced(jid, nextq, queue))
      H.history_append(jid, now, 'put', {q = nextq}, false, hn)
      H.remember_queue(nextq, now)
      if compact then
        H.job_write_compact(key, true, {'data', data, 'time', H.compact_time(now), 'state', 'waiting',
          'worker', '', 'failure', '{}', 'queue', nextq, 'expires', '0', 'retries', f[3],
          'remaining', H.int_text(remaining)})
      else
        redis.call('hset', key, 'data', data, 'time', H.format_time(now), 'state', 'waiting',
          'worker', '', 'failure', '{}', 'queue', nextq, 'expires', '0', 'remaining', H.int_text(remaining))
      end
      local moved = H.throttles_moved(f[7], queue, nextq)
      if moved then redis.call('hset', key, 'throttles', moved) end
      if delay > 0 and #depends == 0 then
        redis.call('zadd', H.queue_key(nextq, 'scheduled'), now + delay, jid)
        return 'scheduled'
      end
      if to_link and #to_link > 0 then
        H.link_dependencies(jid, to_link)
        redis.call('zadd', H.queue_key(nextq, 'depends'), now, jid)
        if delay > 0 then
          redis.call('hset', key, 'state', 'depends', 'scheduled', now + delay)
        else
          redis.call('hset', key, 'state', 'depends')
        end
        return 'depends'
      end
      local priority = tonumber(redis.call('hget', key, 'priority')) or 0
      redis.call('zadd', H.queue_key(nextq, 'work'), H.work_score(priority, now), jid)
      return 'waiting'
    end

    H.publish('log', H.event_completed(jid, queue))
    if compact then
      -- `time` (the pop time, for the run sample) is read only while a job
      -- waits or runs: a put, or a recurring child taking the jid, sets it
      -- again, and the progress it reported shows no more either way.
      H.job_write_compact(key, true, {'data', data, 'time', false, 'state', 'complete',
        'worker', '', 'failure', '{}', 'queue', '', 'expires', '0', 'retries', f[3],
        'remaining', H.int_text(remaining)})
    else
      redis.call('hset', key, 'data', data, 'time', H.format_time(now), 'state', 'complete',
        'worker', '', 'failure', '{}', 'queue', '', 'expires', '0', 'remaining', H.int_text(remaining))
    end
    H.apply_retention(jid, now)
    if linked then H.release_dependents(jid, now) end
    return 'complete'
  end end

  ----------------------------------------------------------------------------
  -- fail
  ----------------------------------------------------------------------------

  if name == 'fail' then return function(now, args)
    local jid = H.require_jid(args[1])
    local worker, group, message, data = args[2], args[3], args[4], args[5]
    if worker == nil then error('Fail(): Arg "worker" missing') end
    if group == nil then error('Fail(): Arg "group" missing') end
    if message == nil then error('Fail(): Arg "message" missing') end
    local decoded = false
    if data ~= nil then decoded = cjson.decode(data) end

    local key = H.job_key(jid)
    local f = redis.call('hmget', key, 'queue', 'state', 'worker', 'history', 'throttles', 'jid', 'hn')
    local queue, state, job_worker = f[1], f[2], f[3]
    local compact = state and not f[6]
    if compact then job_worker = job_worker or '' end
    if not state then
      error('Fail(): Job ' .. jid .. 'does not exist')
    elseif state ~= 'running' then
      error('Fail(): Job ' .. jid .. 'not currently running: ' .. state)
    elseif worker ~= job_worker then
      error('Fail(): Job ' .. jid .. ' running with another worker: ' .. tostring(job_worker))
    end

    H.publish('log', H.event_failed(message, jid, group, worker))
    if H.is_tracked(jid) then H.publish('failed', jid) end
    redis.call('zrem', H.worker_jobs_key(worker), jid)
    H.history_append(jid, now, 'failed', {worker = worker, group = group}, f[4], f[7])
    H.stats_incr(queue, now, 'failures', 1)
    H.stats_incr(queue, now, 'failed', 1)
    H.leave_queue(queue, jid, false)
    local failure = H.failure_text(group, message, math.floor(now), worker)
    if compact then
      local pairs = {'state', 'failed', 'worker', '', 'expires', '', 'failure', failure}
      if decoded then pairs[#pairs + 1], pairs[#pairs + 2] = 'data', cjson.encode(decoded) end
      H.job_write_compact(key, true, pairs)
    elseif decoded then
      redis.call('hset', key, 'data', cjson.encode(decoded), 'state', 'failed', 'worker', '',
        'expires', '', 'failure', failure)
    else
      redis.call('hset', key, 'state', 'failed', 'worker', '', 'expires', '', 'failure', failure)
    end
    H.throttles_release(jid, H.job_throttles(f[5], queue), now)
    redis.call('sadd', H.key('failures'), group)
    redis.call('lpush', H.failure_group_key(group), jid)
    return jid
  end end

  ----------------------------------------------------------------------------
  -- retry
  ----------------------------------------------------------------------------

  if name == 'retry' then return function(now, args)
    local jid = H.require_jid(args[1])
    local queue, worker, raw_delay, group, message = args[2], args[3], args[4], args[5], args[6]
    if queue == nil then error('Retry(): Arg "queue" missing') end
    if worker == nil then error('Retry(): Arg "worker" missing') end
    local delay = H.finite(raw_delay or 0)
    if delay == nil then
      error('Retry(): Arg "delay" not a number: ' .. tostring(raw_delay))
    end

    local key = H.job_key(jid)
    local f = redis.call('hmget', key, 'queue', 'state', 'worker', 'priority', 'history', 'throttles', 'jid', 'hn')
    local oldqueue, state, job_worker = f[1], f[2], f[3]
    local compact = state and not f[7]
    if compact then job_worker = job_worker or '' end
    if job_worker == false then
      error('Retry(): Job ' .. jid .. ' does not exist')
    elseif state ~= 'running' then
      error('Retry(): Job ' .. jid .. ' is not currently running: ' .. tostring(state))
    elseif job_worker ~= worker then
      error('Retry(): Job ' .. jid .. ' has been given to another worker: ' .. job_worker)
    end

    -- First write: Redis itself refuses a non-integer `remaining`.
    local remaining = H.remaining_decrement(key, compact)
    redis.call('hdel', key, 'grace')
    redis.call('zrem', H.queue_key(oldqueue, 'locks'), jid)
    redis.call('zrem', H.worker_jobs_key(worker), jid)
    -- Before it is queued again, so that jobs it held back go first.
    H.throttles_release(jid, H.job_throttles(f[6], oldqueue), now)
    local moved = H.throttles_moved(f[6], oldqueue, queue)
    if moved then redis.call('hset', key, 'throttles', moved) end

    if remaining < 0 then
      local failure
      group = group or ('failed-retries-' .. queue)
      if message ~= nil then
        failure = H.failure_text(group, message, math.floor(now), worker)
      else
        failure = H.failure_text(group, 'Job exhausted retries in queue "' .. oldqueue .. '"', now, '')
      end
      H.mark_exhausted(jid, now, group, failure, queue, f[5], compact, f[8])
      if H.is_tracked(jid) then H.publish('failed', jid) end
    else
      if delay > 0 then
        redis.call('zadd', H.queue_key(queue, 'scheduled'), now + delay, jid)
        redis.call('hset', key, 'state', 'scheduled')
      else
        redis.call('zadd', H.queue_key(queue, 'work'), H.work_score(tonumber(f[4]) or 0, now), jid)
        redis.call('hset', key, 'state', 'waiting')
      end
      if group ~= nil and message ~= nil then
        redis.call('hset', key, 'failure', H.failure_text(group, message, math.floor(now), worker))
      end
    end
    return math.floor(remaining)
  end end

  ----------------------------------------------------------------------------
  -- heartbeat
  ----------------------------------------------------------------------------

  if name == 'heartbeat' then return function(now, args)
    local jid = H.require_jid(args[1])
    local worker, data = args[2], args[3]
    if worker == nil then error('Heatbeat(): Arg "worker" missing') end

    local key = H.job_key(jid)
    local f = redis.call('hmget', key, 'queue', 'worker', 'state')
    local queue, job_worker, state = f[1], f[2], f[3]
    -- (A compact-layout job stores no empty `worker`: its `state` tells it exists.)
    if job_worker == false and state then job_worker = '' end
    local expires = now + H.heartbeat_for(queue or '')
    local decoded = false
    if data ~= nil then decoded = cjson.decode(data) end
    if job_worker == false then
      error('Heartbeat(): Job ' .. jid .. ' does not exist')
    elseif state ~= 'running' then
      error('Heartbeat(): Job ' .. jid .. ' not currently running: ' .. tostring(state))
    elseif job_worker ~= worker or job_worker == '' then
      error('Heartbeat(): Job ' .. jid .. ' given out to another worker: ' .. job_worker)
    end

    -- (The reference also writes `worker`, which is `worker` already.)
    -- (Printed here, once: a heartbeat then loads no number helpers, which
    -- would cost the EVALSHA script their closures.)
    local expires_text = string.format('%.17g', expires)
    if decoded then
      redis.call('hset', key, 'expires', expires_text, 'data', cjson.encode(decoded))
    else
      redis.call('hset', key, 'expires', expires_text)
    end
    redis.call('zadd', H.worker_jobs_key(worker), expires_text, jid)
    -- (`now` is used once here: Redis prints the number itself, with the
    -- same %.17g, for less than string.format costs, and for about what
    -- score_text's look at the client's text costs.)
    redis.call('zadd', H.key('workers'), now, worker)
    redis.call('zadd', H.queue_key(queue, 'locks'), expires_text, jid)
    return expires
  end end

  ----------------------------------------------------------------------------
  -- cancel
  ----------------------------------------------------------------------------

  if name == 'cancel' then return function(now, args)
    -- Nothing is written unless every dependent of every job is canceled too.
    local given, dependents = {}, {}
    for i = 1, #args do given[args[i]] = true end
    for i = 1, #args do
      local jid = args[i]
      dependents[i] = redis.call('smembers', H.dependents_key(jid))
      for _, dep in ipairs(dependents[i]) do
        if not given[dep] then
          error('Cancel(): ' .. jid .. ' is a dependency of ' .. dep ..
            ' but is not mentioned to be canceled')
        end
      end
    end

    for i = 1, #args do
      local jid = args[i]
      local key = H.job_key(jid)
      local f = redis.call('hmget', key, 'state', 'queue', 'failure', 'worker', 'tags', 'throttles')
      local state, queue, failure, worker = f[1], f[2], f[3], f[4]
      -- (A compact-layout job stores no empty `worker`.)
      if worker == false and state then worker = '' end
      if state ~= 'complete' then
        local payload = H.event_canceled(jid, queue, worker)
        H.publish('log', payload)
        if worker and worker ~= '' then
          redis.call('zrem', H.worker_jobs_key(worker), jid)
          H.publish_to_worker(worker, payload)
        end
        if queue then H.leave_queue(queue, jid, true) end
        if state then H.throttles_release(jid, H.job_throttles(f[6], queue), now) end
        local dependencies_key = H.dependencies_key(jid)
        for _, dep in ipairs(redis.call('smembers', dependencies_key)) do
          redis.call('srem', H.dependents_key(dep), jid)
        end
        redis.call('del', dependencies_key)
        if state == 'failed' then
          local decoded = H.leave_failure_group(jid, failure)
          -- HINCRBY rather than the reference's read-modify-write, which
          -- raises a Lua error when the counter is missing.
          H.stats_incr(queue, decoded['when'], 'failed', -1)
        end
        for _, tag in ipairs(cjson.decode(f[5] or '{}')) do H.tag_index_remove(jid, tag) end
        if H.is_tracked(jid) then H.publish('canceled', jid) end
        redis.call('del', key, H.history_key(jid))
      end
    end
    return args
  end end

  ----------------------------------------------------------------------------
  -- timeout
  ----------------------------------------------------------------------------

  if name == 'timeout' then return function(now, args)
    for i = 1, #args do
      local jid = args[i]
      local key = H.job_key(jid)
      local f = redis.call('hmget', key, 'queue', 'state', 'worker', 'history', 'throttles', 'hn')
      local queue, state, worker = f[1], f[2], f[3]
      if not queue then
        error('Timeout(): Job ' .. jid .. ' does not exist')
      elseif state ~= 'running' then
        error('Timeout(): Job ' .. jid .. ' not running')
      end
      H.history_append(jid, now, 'timed-out', nil, f[4], f[6])
      redis.call('zrem', H.queue_key(queue, 'locks'), jid)
      H.throttles_release(jid, H.job_throttles(f[5], queue), now)
      redis.call('zadd', H.queue_key(queue, 'work'), '+inf', jid)
      redis.call('hset', key, 'state', 'stalled', 'expires', 0)
      H.announce_lock_lost(jid, worker)
    end
    return nil
  end end

  ----------------------------------------------------------------------------
  -- priority
  ----------------------------------------------------------------------------

  if name == 'priority' then return function(now, args)
    local jid = H.require_jid(args[1])
    local priority = H.finite(args[2])
    if priority == nil then
      error('Priority(): Arg "priority" missing or not a number: ' .. tostring(args[2]))
    end
    local key = H.job_key(jid)
    local queue = redis.call('hget', key, 'queue')
    if not queue then
      error('Priority(): Job ' .. jid .. ' does not exist')
    end
    if queue ~= '' then
      local work = H.queue_key(queue, 'work')
      if redis.call('zscore', work, jid) then
        redis.call('zadd', work, priority, jid)
      end
    end
    redis.call('hset', key, 'priority', priority)
    return priority
  end end

  ----------------------------------------------------------------------------
  -- depends
  ----------------------------------------------------------------------------

  if name == 'depends' then return function(now, args)
    local jid = H.require_jid(args[1])
    local command = args[2]
    if command == nil then error('Depends(): Arg "command" missing') end
    local key = H.job_key(jid)
    local state = redis.call('hget', key, 'state')
    if state ~= 'depends' then
      error('Depends(): Job ' .. jid .. ' not in the depends state: ' .. tostring(state))
    end
    if command ~= 'on' and command ~= 'off' then
      error('Depends(): Argument "command" must be "on" or "off"')
    end

    local listed = {}
    for i = 3, #args do listed[#listed + 1] = args[i] end
    local dependencies_key = H.dependencies_key(jid)
    if command == 'on' then
      -- Every listed job is checked before the first link is made.
      H.link_dependencies(jid, H.dependencies_to_link('Depends()', jid, listed, 'Arg "jid" may not end in'))
    elseif listed[1] == 'all' then
      for _, dep in ipairs(redis.call('smembers', dependencies_key)) do
        redis.call('srem', H.dependents_key(dep), jid)
      end
      redis.call('del', dependencies_key)
      H.depends_to_work(jid, now)
    else
      for _, dep in ipairs(listed) do
        redis.call('srem', H.dependents_key(dep), jid)
        redis.call('srem', dependencies_key, dep)
        if redis.call('scard', dependencies_key) == 0 then
          H.depends_to_work(jid, now)
        end
      end
    end
    return 1
  end end

  ----------------------------------------------------------------------------
  -- log
  ----------------------------------------------------------------------------

  if name == 'log' then return function(now, args)
    local jid, message, data = args[1], args[2], args[3]
    if jid == nil then error("Log(): Argument 'jid' missing") end
    if message == nil then error("Log(): Argument 'message' missing") end
    local extra = nil
    if data ~= nil then
      extra = H.decode_json_arg(data, "Log(): Argument 'data' not cjson: ")
      -- A scalar would make every later read of the job fail (§4.1).
      if type(extra) ~= 'table' then
        error("Log(): Argument 'data' not cjson: " .. data .. ' (must be a JSON object)')
      end
    end
    if redis.call('exists', H.job_key(jid)) == 0 then
      error('Log(): Job ' .. jid .. ' does not exist')
    end
    H.history_append(jid, now, message, extra)
    return nil
  end end

  ----------------------------------------------------------------------------
  -- get, multiget
  ----------------------------------------------------------------------------

  if name == 'get' then return function(now, args)
    local job = H.job_object(H.require_jid(args[1]))
    if job == nil then return nil end
    return cjson.encode(job)
  end end

  if name == 'multiget' then return function(now, args)
    local out = {}
    for i = 1, #args do
      local job = H.job_object(args[i])
      if job ~= nil then out[#out + 1] = job end
    end
    return cjson.encode(out)
  end end
end
