-- api.lua: the dispatcher, `multi`, and the lazy registry of commands and
-- helpers (see the layout note in base.lua).
--
-- Check order is part of the contract: keys given, missing command, unknown
-- command, then `now`. Commands receive `now` as a number and their own
-- arguments as a table of strings (a table, not varargs, so that cancel or
-- pause with thousands of jids cannot overflow Lua's stack).
--
-- The same body runs in two forms. As the EVALSHA script (dist/qless.lua,
-- the contract other clients load) the last line below calls `dispatch` with
-- KEYS and ARGV. As a Redis 7 function library (what qless-ts itself loads,
-- see src/script.ts) that line is replaced by a register_function call, so
-- the chunk runs once at load time instead of once per call; anything a
-- call must not inherit from the previous one is reset here.

-- `now` as a number: a pipeline's calls (and a multi's commands) mostly
-- share it, and tonumber of a long text is costly, so the last text read is
-- remembered (the same text always gives the same number).
local now_memo_text, now_memo_number
local function parse_now(text)
  if text ~= now_memo_text then
    now_memo_text, now_memo_number = text, tonumber(text)
  end
  return now_memo_number
end

-- list[first..last] as a new table: unpack builds it in one go (a loop
-- grows it step by step, which costs several times more), except for long
-- lists, which would overflow Lua's stack.
local function copy_args(list, first, last)
  if last - first < 100 then return { unpack(list, first, last) } end
  local out = {}
  for i = first, last do out[i - first + 1] = list[i] end
  return out
end

-- multi <now> [<command> <now> <count> <arg>...]...: several commands in
-- one call, run in order, each exactly as a call of its own in a pipeline
-- would run (with its own `now`, checked like the dispatcher checks it):
-- same checks, writes, events and reply, and an error in one stops only
-- that one. The reply lists each command's reply (nil stays nil) or its
-- error. qless-ts sends its batches this way (entering a script costs Redis
-- more than most commands do); the only differences to a pipeline are that
-- the wait and run samples of the batch are written once at its end (or
-- before a `stats` in the batch), and that nothing else runs in between.
local function multi_command(now, args)
  -- Every command's count is checked before any command runs.
  local counts = {}
  local i = 1
  while args[i] ~= nil do
    local name, count = args[i], tonumber(args[i + 2])
    if count == nil or count < 0 or count % 1 ~= 0 then
      error('Multi(): Arg "count" of ' .. name .. ' not a whole number: ' .. tostring(args[i + 2]))
    end
    -- The arguments are a sequence: all of them are there when the last is.
    if count > 0 and args[i + 2 + count] == nil then
      error('Multi(): ' .. name .. ' is missing arguments')
    end
    counts[#counts + 1] = count
    i = i + 3 + count
  end

  local replies = {}
  deferred_samples = {}
  i = 1
  for k = 1, #counts do
    local name, sub_now, count = args[i], parse_now(args[i + 1]), counts[k]
    local command = commands[name]
    local ok, reply
    -- `stats` is the one command that reads the samples: it sees them written.
    if name == 'stats' then
      samples_flush()
      deferred_samples = {}
    end
    if command == nil or name == 'multi' then
      ok, reply = false, 'Unknown command ' .. name
    elseif sub_now == nil then
      ok, reply = false, 'Arg "now" missing or not a number: nil'
    else
      ok, reply = pcall(command, sub_now, copy_args(args, i + 3, i + 2 + count))
    end
    if ok then
      if reply == nil then reply = false end
      replies[k] = reply
    else
      if type(reply) == 'table' then reply = reply.err or reply[1] end
      replies[k] = { err = tostring(reply) }
    end
    i = i + 3 + count
  end
  samples_flush()
  return replies
end

-- Where each helper is defined: looking up H.<name> the first time (in a
-- call, or ever in the function-library form) runs its group's loader,
-- which defines the whole group in H. A chain of comparisons rather than a
-- table: a table of all the names would be built on every EVALSHA call. A
-- test checks it against the `load_*` functions.
local function find_helper(helpers, name)
  local load
  if name == 'job_key' or name == 'queue_key' or name == 'worker_jobs_key' or
      name == 'call_chunked' or name == 'day_bin' or name == 'format_time' or
      name == 'int_text' or name == 'lua_text' or name == 'score_text' or
      name == 'work_score' or name == 'parse_options' or name == 'parse_pairs' or
      name == 'decode_json_arg' or name == 'as_list' or name == 'store_tags' then
    load = load_util
  elseif name == 'config_value' or name == 'config_prefetch' or name == 'config_forget' or
      name == 'heartbeat_for' then
    load = load_config
  elseif name == 'history_key' or name == 'migrate_history' or
      name == 'ensure_history_migrated' or name == 'trim_history' or
      name == 'history_append' or name == 'history_read' then
    load = load_history
  elseif name == 'publish' or name == 'is_tracked' or name == 'tracked_flags' then
    load = load_publish
  elseif name == 'sample_bucket' or name == 'samples_write' or name == 'samples_for' or
      name == 'samples_add' or name == 'samples_done' or name == 'record_sample' or
      name == 'stats_incr' then
    load = load_stats
  elseif name == 'require_jid' or name == 'leave_queue' or name == 'check_list_items' or
      name == 'link_dependencies' then
    load = load_job_util
  elseif name == 'require_queue' or name == 'list_option' then
    load = load_queue_args
  elseif name == 'event_completed' or name == 'event_advanced' then
    load = load_complete_events
  elseif name == 'event_put' or name == 'event_lock_lost' then
    load = load_put_events
  elseif name == 'purge_completed' or name == 'apply_retention' or
      name == 'release_dependents' then
    load = load_retention
  elseif name == 'promote_scheduled' or name == 'take_work' or name == 'reclaim_expired' or
      name == 'pop_jobs' then
    load = load_pop
  elseif name == 'tag_index_add' or name == 'tag_index_remove' or name == 'remember_queue' then
    load = load_tag_index
  elseif name == 'job_links' or name == 'job_object' or name == 'job_record' then
    load = load_job_read
  elseif name == 'failure_text' or name == 'leave_failure_group' or name == 'mark_exhausted' then
    load = load_failures
  elseif name == 'json_value' or name == 'event_failed' or name == 'event_canceled' or
      name == 'event_config_set' or name == 'event_config_unset' then
    load = load_other_events
  elseif name == 'encode_jobs' or name == 'queue_counts' or name == 'bulk_members' or
      name == 'histogram_fields' or name == 'timing_stats' then
    load = load_queue_util
  elseif name == 'depends_to_work' then
    load = load_depends
  elseif name == 'recur_spawn' then
    load = load_recur_spawn
  elseif name == 'recur_key' or name == 'recur_number' or name == 'recur_jid' or
      name == 'recur_updates' then
    load = load_recur_util
  elseif name == 'tag_number' or name == 'tag_actions' or name == 'tagged_job' then
    load = load_tag_actions
  else
    return nil
  end
  load()
  return rawget(helpers, name)
end

-- A command not made yet: asked of each module in turn.
local function find_command(registry, name)
  local command = config_commands(name) or job_commands(name) or queue_commands(name) or
    tag_commands(name) or recur_commands(name) or worker_commands(name)
  if command ~= nil then rawset(registry, name, command) end
  return command
end

-- The registry and the helper table, made at the first call: in the
-- function-library form they then live as long as the library, and
-- setmetatable is one of the globals a library may only use in a call.
local function setup()
  H = setmetatable({}, { __index = find_helper })
  commands = setmetatable({ multi = multi_command }, { __index = find_command })
end

local function dispatch(keys, argv)
  if H == nil then setup() end
  if #keys > 0 then
    error('No Keys should be provided')
  end

  local command_name = argv[1]
  if command_name == nil then
    error('Must provide a command')
  end

  local command = commands[command_name]
  if command == nil then
    error('Unknown command ' .. command_name)
  end

  -- With `now` missing altogether the reference reports Lua's own error for a
  -- tonumber() call without a value; an explicit nil would not raise it.
  if argv[2] == nil then tonumber() end
  local now = parse_now(argv[2])
  if now == nil then
    error('Arg "now" missing or not a number: nil')
  end

  local args = copy_args(argv, 3, #argv)

  -- Per-call state: bind the late globals and forget what the previous
  -- call read (in the function-library form the chunk outlives a call).
  encode = cjson.encode
  config_cache = {}
  tracking = nil
  remembered_queues = false
  completed_known = nil
  deferred_samples = false
  return command(now, args)
end

return dispatch(KEYS, ARGV)
