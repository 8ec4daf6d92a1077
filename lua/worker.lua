-- worker.lua: the worker listing (`workers`) and `worker.deregister`.
--
-- ql:workers maps a worker name to the `now` of its latest pop or heartbeat;
-- ql:w:<worker>:jobs maps the jids it holds (or held) to their lock expiry.
-- Workers expire only here: every `workers` call first prunes those last seen
-- in [0, now - max-worker-age], deleting their job sets too.

-- How far ahead a lock may be and still count as a held job (100 days).
local WORKER_LOCK_HORIZON = 8640000

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function worker_commands(name)
  if name == 'workers' then return function(now, args)
    local worker = args[1]
    local cutoff = now - H.config_number('max-worker-age', 86400)
    local workers = H.key('workers')
    local stale = redis.call('zrangebyscore', workers, 0, cutoff)
    if #stale > 0 then
      local keys = {}
      for i = 1, #stale do keys[i] = H.worker_jobs_key(stale[i]) end
      for first = 1, #keys, CHUNK do
        redis.call('del', unpack(keys, first, math.min(first + CHUNK - 1, #keys)))
      end
      redis.call('zremrangebyscore', workers, 0, cutoff)
    end

    local horizon = now + WORKER_LOCK_HORIZON
    if worker ~= nil then
      local key = H.worker_jobs_key(worker)
      return encode({
        jobs = redis.call('zrevrangebyscore', key, horizon, now),
        stalled = redis.call('zrevrangebyscore', key, now, 0),
      })
    end
    local names = redis.call('zrevrange', workers, 0, -1)
    local listing = {}
    for i = 1, #names do
      local key = H.worker_jobs_key(names[i])
      listing[i] = {
        name = names[i],
        jobs = redis.call('zcount', key, now, horizon),
        stalled = redis.call('zcount', key, 0, now),
      }
    end
    return encode(listing)
  end end

  -- worker.deregister <now> <worker>...: only ql:workers changes; the job sets
  -- stay. With no names Redis itself rejects the ZREM, as in the reference.
  if name == 'worker.deregister' then return function(now, args)
    if #args == 0 then
      redis.call('zrem', H.key('workers'))
    end
    H.call_chunked('zrem', H.key('workers'), args)
  end end
end
