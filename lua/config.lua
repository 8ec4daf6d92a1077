-- config.lua: the configuration commands config.get, config.set and
-- config.unset.
--
-- Values live in the hash ql:config as strings. config.get shows the stored
-- text when there is one, else the built-in default (CONFIG_DEFAULTS in
-- base.lua: numbers come back as integer replies / JSON numbers); options
-- with only an in-code fallback (max-worker-age, max-job-history, per-queue
-- settings) read as nil until set. Nothing is validated when set.

-- config.get <now> [option]
commands['config.get'] = function(now, args)
  local option = args[1]
  if option ~= nil then
    local stored = redis.call('hget', KEY_CONFIG, option)
    if stored then return stored end
    return CONFIG_DEFAULTS[option]
  end
  local all = {}
  for name, value in pairs(CONFIG_DEFAULTS) do all[name] = value end
  local stored = redis.call('hgetall', KEY_CONFIG)
  for i = 1, #stored, 2 do all[stored[i]] = stored[i + 1] end
  return encode(all)
end

-- config.set <now> <option> <value>: the event goes out before the write.
commands['config.set'] = function(now, args)
  local option, value = args[1], args[2]
  if option == nil then error('config.set(): Arg "option" missing') end
  if value == nil then error('config.set(): Arg "value" missing') end
  publish('log', events.config_set(option, value))
  redis.call('hset', KEY_CONFIG, option, value)
  config_forget(option)
end

-- config.unset <now> <option>: publishes even when the option was not set.
commands['config.unset'] = function(now, args)
  local option = args[1]
  if option == nil then error('config.unset(): Arg "option" missing') end
  publish('log', events.config_unset(option))
  redis.call('hdel', KEY_CONFIG, option)
  config_forget(option)
end
