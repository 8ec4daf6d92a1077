-- api.lua: the dispatcher, `multi`, and the lazy registry of commands and
-- helpers (see the layout note in base.lua; its two lookups are generated
-- by lua/build.mjs at the marked line).
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

-- `now` as a number, or nil when the text is not a finite number (inf and
-- nan would be written into scores and hashes): a pipeline's calls (and a
-- multi's commands) mostly share it, and tonumber of a long text is costly,
-- so the last text read is remembered (the same text always gives the same
-- number).
-- (Arithmetic on the text reads it with one strtod, tonumber with two:
-- lua_isnumber, then lua_tonumber. A text that is no number raises there,
-- and is then nil, as tonumber has it.)
-- (now_memo_text and now_memo_number are in base.lua: score_text reads them.)
local function plus_zero(text) return text + 0 end
local function parse_now(text)
  if text ~= now_memo_text then
    local ok, now = false, nil
    if type(text) == 'string' then ok, now = pcall(plus_zero, text) end
    if not ok then now = tonumber(text) end
    if now ~= nil and now - now ~= 0 then now = nil end
    now_memo_text, now_memo_number = text, now
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
    local name, count = args[i], H.small_number(args[i + 2])
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

-- @registry: find_helper and find_command are generated here by lua/build.mjs

-- The registry and the helper table, made at the first call: in the
-- function-library form they then live as long as the library, and
-- setmetatable is one of the globals a library may only use in a call.
local function setup()
  H = setmetatable({}, { __index = find_helper })
  commands = setmetatable({ multi = multi_command }, { __index = find_command })
end

local function dispatch(keys, argv)
  if H == nil then setup() end
  -- No key: the default namespace, `ql:` keys exactly as qless-core has
  -- them. One key naming a namespace (`ql:{orders}:`, see namespace_prefix):
  -- that namespace, whose keys all share the key's hash slot, so that Redis
  -- Cluster routes the call to the node holding them. Anything else is
  -- refused as qless-core refuses keys, so its clients see no change.
  local call_prefix = KEY_PREFIX
  if #keys > 0 then
    call_prefix = #keys == 1 and namespace_prefix(keys[1]) or nil
    if call_prefix == nil then
      error('No Keys should be provided')
    end
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
  prefix = call_prefix
  config_cache = {}
  config_whole = false
  tracking = nil
  remembered_queues = false
  completed_known = nil
  deferred_samples = false
  return command(now, args)
end

return dispatch(KEYS, ARGV)
