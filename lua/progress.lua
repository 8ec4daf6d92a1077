-- progress.lua: `job.progress`, a running job's report of how far it got
-- (qless-ts; qless-core has no such command, and clients that never call it
-- see nothing of it).
--
-- The value lives in two fields of the job's hash that other clients never
-- read: `progress` (the JSON text as reported) and `progress-of` (the job's
-- `time` when it was reported, i.e. the pop that started the run). `get`
-- shows it while `time` still matches: a job popped again, completed, put or
-- retried drops its old progress without any write on those hot paths, and
-- a failed job keeps the progress its last run reached.

-- The largest value accepted (as JSON text): a progress report is a number
-- or a few fields such as {"done": 40, "of": 200, "step": "resize"}, not a
-- place for data.
local PROGRESS_MAX_BYTES = 1024

local function progress_commands(name)
  -- job.progress <now> <jid> <worker> <value>: value is a number from 0 to
  -- 100 or a JSON object. Checks as heartbeat's (the job must be running
  -- and held by `worker`), all before the write. Publishes the progress
  -- event on ql:log, and the jid on ql:progress when the job is tracked.
  -- Replies with the value as stored.
  if name == 'job.progress' then return function(now, args)
    local jid, worker, value = args[1], args[2], args[3]
    if jid == nil then error('Progress(): Arg "jid" missing') end
    if worker == nil then error('Progress(): Arg "worker" missing') end
    if value == nil then error('Progress(): Arg "progress" missing') end
    local message = 'Progress(): Arg "progress" must be a number from 0 to 100 or a JSON object: '
    if #value > PROGRESS_MAX_BYTES then
      error('Progress(): Arg "progress" is longer than ' .. PROGRESS_MAX_BYTES .. ' bytes (' .. #value .. ')')
    end
    local ok, decoded = pcall(cjson.decode, value)
    if not ok then error(message .. value) end
    local kind = type(decoded)
    if kind == 'number' then
      if not (decoded >= 0 and decoded <= 100) then error(message .. value) end
      value = encode(decoded)
    -- cjson reads `[]` and `{}` alike: the text tells an object.
    elseif kind ~= 'table' or string.match(value, '^%s*(.)') ~= '{' then
      error(message .. value)
    end

    local key = H.job_key(jid)
    local f = redis.call('hmget', key, 'queue', 'worker', 'state', 'time')
    local queue, job_worker, state = f[1], f[2], f[3]
    -- (A compact-layout job stores no empty `worker`: its `state` tells it exists.)
    if job_worker == false and state then job_worker = '' end
    if job_worker == false then
      error('Progress(): Job ' .. jid .. ' does not exist')
    elseif state ~= 'running' then
      error('Progress(): Job ' .. jid .. ' not currently running: ' .. tostring(state))
    elseif job_worker ~= worker or job_worker == '' then
      error('Progress(): Job ' .. jid .. ' given out to another worker: ' .. job_worker)
    end

    redis.call('hset', key, 'progress', value, 'progress-of', f[4] or '')
    H.publish('log', '{"jid":' .. encode(jid) .. ',"event":"progress","queue":' .. encode(queue) ..
      ',"worker":' .. encode(worker) .. ',"progress":' .. value .. '}')
    if H.is_tracked(jid) then H.publish('progress', jid) end
    return value
  end end
end
