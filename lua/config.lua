-- config.lua: the configuration commands config.get, config.set and
-- config.unset.
--
-- Values live in the hash ql:config as strings. config.get shows the stored
-- text when there is one, else the built-in default (CONFIG_DEFAULTS in
-- base.lua: numbers come back as integer replies / JSON numbers); options
-- with only an in-code fallback (max-worker-age, max-job-history, per-queue
-- settings) read as nil until set. config.set refuses a value that is not a
-- finite number for an option the core reads as one (is_numeric_option);
-- any other option takes any text, as other clients keep options here too.

local function load_config_options()
  -- Whether the core reads the option as a number, so that config.set must
  -- refuse a value that is not one: the built-in numeric options, the ones
  -- with an in-code fallback, and the per-queue `<queue>-heartbeat`,
  -- `<queue>-max-concurrency`, `<queue>-max-pop-retry`, `<queue>-rate-limit`
  -- and `<queue>-rate-window`. Any other name is some client's own option
  -- and takes any text.
  function H.is_numeric_option(name)
    local default = CONFIG_DEFAULTS[name]
    if default ~= nil then return type(default) == 'number' end
    return name == 'max-job-history' or name == 'max-worker-age' or name == 'max-pop-retry' or
      string.sub(name, -10) == '-heartbeat' or string.sub(name, -16) == '-max-concurrency' or
      string.sub(name, -14) == '-max-pop-retry' or string.sub(name, -11) == '-rate-limit' or
      string.sub(name, -12) == '-rate-window'
  end

  -- What this call read of an option that it has just changed (and that it
  -- knew the whole hash: the option is read again from Redis).
  function H.config_forget(name)
    config_cache[name] = nil
    config_whole = false
  end
end

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function config_commands(name)
  -- config.get <now> [option]
  if name == 'config.get' then return function(now, args)
    local option = args[1]
    if option ~= nil then
      local stored = redis.call('hget', H.key('config'), option)
      if stored then return stored end
      return CONFIG_DEFAULTS[option]
    end
    local all = {}
    for name, value in pairs(CONFIG_DEFAULTS) do all[name] = value end
    local stored = redis.call('hgetall', H.key('config'))
    for i = 1, #stored, 2 do all[stored[i]] = stored[i + 1] end
    return encode(all)
  end end

  -- config.set <now> <option> <value>: the event goes out before the write.
  if name == 'config.set' then return function(now, args)
    local option, value = args[1], args[2]
    if option == nil then error('config.set(): Arg "option" missing') end
    if value == nil then error('config.set(): Arg "value" missing') end
    if H.is_numeric_option(option) then
      local number = tonumber(value)
      if number == nil or number - number ~= 0 then
        error('config.set(): Arg "value" for "' .. option .. '" not a number: ' .. value)
      end
    end
    -- job-layout decides how put stores new jobs (see H.compact_layout): a
    -- misspelt value would silently mean today's layout.
    if option == 'job-layout' and value ~= 'spec' and value ~= 'compact' then
      error('config.set(): Arg "value" for "job-layout" must be spec or compact: ' .. value)
    end
    H.publish('log', H.event_config_set(option, value))
    redis.call('hset', H.key('config'), option, value)
    H.config_forget(option)
  end end

  -- config.unset <now> <option>: publishes even when the option was not set.
  if name == 'config.unset' then return function(now, args)
    local option = args[1]
    if option == nil then error('config.unset(): Arg "option" missing') end
    H.publish('log', H.event_config_unset(option))
    redis.call('hdel', H.key('config'), option)
    H.config_forget(option)
  end end
end
