-- api.lua: the dispatcher, run on every call once all modules have
-- registered their commands.
--
-- Check order is part of the contract: keys given, missing command, unknown
-- command, then `now`. Commands receive `now` as a number and their own
-- arguments as a table of strings (a table, not varargs, so that cancel or
-- pause with thousands of jids cannot overflow Lua's stack).

if #KEYS > 0 then
  error('No Keys should be provided')
end

local command_name = ARGV[1]
if command_name == nil then
  error('Must provide a command')
end

local command = commands[command_name]
if command == nil then
  error('Unknown command ' .. command_name)
end

-- With `now` missing altogether the reference reports Lua's own error for a
-- tonumber() call without a value; an explicit nil would not raise it.
if ARGV[2] == nil then tonumber() end
local now = tonumber(ARGV[2])
if now == nil then
  error('Arg "now" missing or not a number: nil')
end

local args = {}
for i = 3, #ARGV do
  args[i - 2] = ARGV[i]
end

return command(now, args)
