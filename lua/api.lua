-- api.lua: the dispatcher, run on every call once all modules have
-- registered their commands.
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
-- multi <now> [<command> <now> <count> <arg>...]...: several commands in
-- one call, run in order, each exactly as a call of its own in a pipeline
-- would run (with its own `now`, checked like the dispatcher checks it):
-- same checks, writes, events and reply, and an error in one stops only
-- that one. The reply lists each command's reply (nil stays nil) or its
-- error. qless-ts sends its batches this way (entering a script costs Redis
-- more than most commands do); the only differences to a pipeline are that
-- the wait and run samples of the batch are written once at its end (or
-- before a `stats` in the batch), and that nothing else runs in between.
commands['multi'] = function(now, args)
  local batch = {}
  local i = 1
  while args[i] ~= nil do
    local name, count = args[i], tonumber(args[i + 2])
    if count == nil or count < 0 or count % 1 ~= 0 then
      error('Multi(): Arg "count" of ' .. name .. ' not a whole number: ' .. tostring(args[i + 2]))
    end
    local sub = {}
    for k = 1, count do
      sub[k] = args[i + 2 + k]
      if sub[k] == nil then error('Multi(): ' .. name .. ' is missing arguments') end
    end
    batch[#batch + 1] = { name, args[i + 1], sub }
    i = i + 3 + count
  end

  local replies = {}
  samples_defer()
  for k = 1, #batch do
    local name, sub_now, sub = batch[k][1], tonumber(batch[k][2]), batch[k][3]
    local command = commands[name]
    local ok, reply
    -- `stats` is the one command that reads the samples: it sees them written.
    if name == 'stats' then
      samples_flush()
      samples_defer()
    end
    if command == nil or name == 'multi' then
      ok, reply = false, 'Unknown command ' .. name
    elseif sub_now == nil then
      ok, reply = false, 'Arg "now" missing or not a number: nil'
    else
      ok, reply = pcall(command, sub_now, sub)
    end
    if ok then
      if reply == nil then reply = false end
      replies[k] = reply
    else
      if type(reply) == 'table' then reply = reply.err or reply[1] end
      replies[k] = { err = tostring(reply) }
    end
  end
  samples_flush()
  return replies
end

local function dispatch(keys, argv)
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
  local now = tonumber(argv[2])
  if now == nil then
    error('Arg "now" missing or not a number: nil')
  end

  local args = {}
  for i = 3, #argv do
    args[i - 2] = argv[i]
  end

  call_begin()
  samples_reset()
  return command(now, args)
end

return dispatch(KEYS, ARGV)
