-- tags.lua: tags on jobs (`tag add|remove|get|top`) and tracking (`track`).
--
-- The tag index is ql:t:<tag> (jid -> time the tag was last applied) plus
-- the usage counters in ql:tags, maintained through tag_index_add/remove
-- (base.lua). Counters are never clamped or deleted: they may reach 0 or go
-- negative, and `top` only lists tags counted at least twice. No form of
-- `tag` publishes anything; track/untrack publish the bare jid.

local function load_tag_actions()
  H.tag_actions = {}

  -- The job's decoded tag list and its hash key; the `tags` field is what
  -- decides that the job exists here (or, for a job in the compact layout,
  -- which stores no empty list, its `state`).
  function H.tagged_job(jid)
    if jid == nil then error('Tag(): Arg "jid" missing') end
    local key = H.job_key(jid)
    local f = redis.call('hmget', key, 'tags', 'state', 'jid')
    local raw = f[1]
    if not raw and f[2] and not f[3] then raw = '{}' end
    if not raw then error('Tag(): Job ' .. jid .. ' does not exist') end
    return cjson.decode(raw), key
  end

  -- tag <now> add <jid> [<tag>]...: every argument is indexed (and counted),
  -- even one the job already has; the list only gains tags it lacks.
  function H.tag_actions.add(now, args)
    local jid = args[2]
    local tags, key = H.tagged_job(jid)
    local present = {}
    for _, tag in ipairs(tags) do present[tag] = true end
    for i = 3, #args do
      local tag = args[i]
      if not present[tag] then
        present[tag] = true
        tags[#tags + 1] = tag
      end
      H.tag_index_add(jid, tag, now)
    end
    return H.store_tags(key, tags)
  end

  -- tag <now> remove <jid> [<tag>]...: every argument is unindexed and
  -- decremented, even one the job never had.
  function H.tag_actions.remove(now, args)
    local jid = args[2]
    local tags, key = H.tagged_job(jid)
    local removed = {}
    for i = 3, #args do
      local tag = args[i]
      removed[tag] = true
      H.tag_index_remove(jid, tag)
    end
    return H.store_tags(key, tags, removed)
  end

  -- tag <now> get <tag> [<offset> [<count>]]: the end index goes to Redis as
  -- is, so count 0 at offset 0 means 0..-1 (everything).
  function H.tag_actions.get(now, args)
    local tag = args[2]
    if tag == nil then error('Tag(): Arg "tag" missing') end
    local offset = H.number_arg(args[3] or 0, 'Tag(): Arg "offset" not a number: ')
    local count = H.number_arg(args[4] or 25, 'Tag(): Arg "count" not a number: ')
    H.require_whole(offset, 'Tag(): Arg "offset"', args[3])
    H.require_whole(count, 'Tag(): Arg "count"', args[4])
    local key = H.tag_key(tag)
    return encode({
      total = redis.call('zcard', key),
      jobs = redis.call('zrange', key, offset, offset + count - 1),
    })
  end

  -- tag <now> top [<offset> [<count>]]: tags used at least twice, most used
  -- first.
  function H.tag_actions.top(now, args)
    local offset = H.number_arg(args[2] or 0, 'Tag(): Arg "offset" not a number: ')
    local count = H.number_arg(args[3] or 25, 'Tag(): Arg "count" not a number: ')
    H.require_whole(offset, 'Tag(): Arg "offset"', args[2])
    H.require_whole(count, 'Tag(): Arg "count"', args[3])
    return encode(redis.call('zrevrangebyscore', H.key('tags'), '+inf', 2, 'LIMIT', offset, count))
  end
end

-- The commands of this module, made one at a time: the closure of the
-- command `name`, or nil when the name is not one of them.
local function tag_commands(name)
  if name == 'tag' then return function(now, args)
    local action = args[1]
    if action == nil then
      error('Tag(): Arg "command" must be "add", "remove", "get" or "top"')
    end
    local handler = H.tag_actions[action]
    if handler == nil then
      -- The reference's text really leaves out "top".
      error('Tag(): First argument must be "add", "remove" or "get"')
    end
    return handler(now, args)
  end end

  -- track <now> [track|untrack <jid>]
  --
  -- With a command word: jid check, then existence (the job key), then the
  -- word, compared case-insensitively. The reply is the JSON text of ZADD/ZREM's
  -- count ("1" or "0"), not an integer reply.
  -- Without one: every tracked jid, oldest `track` first, as a full job object
  -- under `jobs` or as a bare jid under `expired` when the job is gone.
  if name == 'track' then return function(now, args)
    local action, jid = args[1], args[2]
    if action ~= nil then
      if jid == nil then error('Track(): Arg "jid" missing') end
      if redis.call('exists', H.job_key(jid)) ~= 1 then error('Track(): Job does not exist') end
      local word = string.lower(action)
      tracking = nil
      if word == 'track' then
        H.publish('track', jid)
        return encode(redis.call('zadd', H.key('tracked'), now, jid))
      elseif word == 'untrack' then
        H.publish('untrack', jid)
        return encode(redis.call('zrem', H.key('tracked'), jid))
      end
      error('Track(): Unknown action "' .. action .. '"')
    end
    local jobs, expired = {}, {}
    local tracked = redis.call('zrange', H.key('tracked'), 0, -1)
    for i = 1, #tracked do
      local object = H.job_object(tracked[i])
      if object then
        jobs[#jobs + 1] = object
      else
        expired[#expired + 1] = tracked[i]
      end
    end
    return encode({ jobs = jobs, expired = expired })
  end end
end
