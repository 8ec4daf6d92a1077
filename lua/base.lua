-- base.lua: what every other core module leans on.
--
-- Owns: the command registry, the per-call state, argument parsing, number
-- and time formatting, configuration lookup, the exact event payload texts,
-- job history (append, trim, legacy migration, read), the job object
-- returned by get/pop/peek, wait/run statistics and the tag index.
--
-- Redis 7 runs scripts with read-only globals, so everything here is a local.
--
-- Layout: what a call creates. As the EVALSHA script (dist/qless.lua) the
-- whole chunk runs on every call, and in Lua 5.1 every `function` statement
-- it reaches makes a new closure, each capture of a local walking the list
-- of upvalues already open. So the chunk itself makes only a few closures,
-- and few top-level locals are captured:
-- * the shared helpers are fields of the table H, defined in groups by the
--   `load_*` functions (each definition two spaces in, at the top of its
--   group); a group is loaded when one of its helpers is first looked up
--   (find_helper). A closure costs an EVALSHA call about a thousand
--   instructions, so groups hold what is used together: the commonest
--   commands (put, pop, complete, heartbeat) load only groups they use
--   most of, and rarely used helpers sit in groups of their own;
-- * commands are made one at a time by their module's `*_commands(name)`
--   function (`if name == '<command>' then return function`), when first
--   called (find_command).
-- A call thus makes the closures of the command it runs and of the helper
-- groups it uses, no others. As a function library (what qless-ts loads)
-- the chunk runs once, and what a call loads stays for the next calls.
-- lua/build.mjs generates both lookups into api.lua from these groups and
-- makers, and refuses to build when a helper is defined twice, used but
-- never defined, or defined but never used.
--
-- Lua 5.1 allows at most 200 locals per function and 60 upvalues per
-- closure: helpers reach each other through H, never through locals.
--
-- What a redis.call costs beyond the command itself, and so what the code
-- avoids (callgrind of redis-server, instructions per call): every field of
-- a reply turned into a Lua value and put into its table (about 1,900 for
-- each HMGET field); a status reply, which arrives as a table {ok = 'OK'}
-- (so hashes are written with a multi-pair HSET, whose reply is a number,
-- not HMSET: 1,600 less); a Lua number as an argument, which Redis prints
-- with %.17g (about 4,000); tonumber of a text (two strtod calls).

-- The command registry and the helper table, made by setup() (api.lua) at
-- the first call: commands[name] and H[name] are filled on first use.
local commands, H

-- Redis refuses commands with thousands of arguments spread from one table
-- (Lua's C stack overflows), so bulk operations go out in slices. Keep it
-- even: ZADD callers pass score/member pairs through call_chunked.
local CHUNK = 1000

-- Built-in defaults, listed by config.get. Options with only an in-code
-- fallback (max-worker-age, max-job-history, per-queue settings) are not here.
local CONFIG_DEFAULTS = {
  ['application'] = 'qless',
  ['heartbeat'] = 60,
  ['grace-period'] = 10,
  ['stats-history'] = 30,
  ['histogram-history'] = 7,
  ['jobs-history'] = 604800,
  ['jobs-history-count'] = 50000,
}

------------------------------------------------------------------------------
-- Per-call state (top-level locals: every loader below may use them)
------------------------------------------------------------------------------

-- What this call has read of ql:config (option -> stored text, or false
-- when unset). Commands fetch the options they will need in one HMGET up
-- front (config_prefetch); anything else is read on first use.
local config_cache = {}

-- Whether config_cache holds every option stored in ql:config (read whole
-- when the hash is small, see config_prefetch): an option not in it is then
-- unset, with no need to ask Redis.
local config_whole = false

-- cjson.encode, bound at the start of every call by dispatch: while a
-- function library loads, Redis shows it no global but `redis`, so nothing
-- at the top level of the chunk may touch cjson, string, math or the like.
local encode

-- Whether ql:tracked exists, as far as this call knows (nil: not asked).
local tracking = nil

-- Queues this call has already added to ql:queues (false: none yet).
local remembered_queues = false

-- What this call's last retention pass established about ql:completed: no
-- member scored in [0, cutoff], and its size (nil: nothing known). Lets the
-- completes of one batch skip checks whose answer is already known.
local completed_known = nil

-- Batches held back by `multi`: by key, and in order of first use.
local deferred_samples = false

-- The last `now` text parse_now (api.lua) read, and the number it read
-- (nil: none): score_text hands the text out for that number. (A memo,
-- which dispatch leaves as it is: the text always reads as the number.)
local now_memo_text, now_memo_number

-- The prefix of every key and channel name of this call (see load_keys).
local KEY_PREFIX = 'ql:'
local prefix = KEY_PREFIX

-- The prefix of a named namespace, from the one key a call passes: the key
-- is the prefix itself, `ql:{<name>}:`, with a name of 1 to 64 letters,
-- digits, `_`, `.` or `-`, starting with a letter or digit (nil for any
-- other text). The braces make the
-- name Redis Cluster's hash tag, so every key of the namespace lands in one
-- slot. Not a helper of H: dispatch checks it before any command is made.
local function namespace_prefix(key)
  if type(key) ~= 'string' or #key > 70 or string.sub(key, 1, #KEY_PREFIX) ~= KEY_PREFIX then return nil end
  local name = string.match(key, '^{(%w[%w_%.%-]*)}:$', #KEY_PREFIX + 1)
  if name == nil or #name > 64 then return nil end
  return key
end

-- (dispatch, in api.lua, resets all of the above at the start of a call.)

local function samples_flush()
  local pending = deferred_samples
  deferred_samples = false
  if pending then
    for i = 1, #pending do H.samples_write(pending[i]) end
  end
end

------------------------------------------------------------------------------
-- Key and channel names
------------------------------------------------------------------------------

-- Every Redis key and pub/sub channel the core names is made here, from the
-- call's `prefix`; no other code spells `ql:` (lua/build.mjs refuses a key
-- name spelt anywhere else). The names themselves are wire contract: other
-- qless clients read these keys directly.
--
-- The prefix is per-call state, set by dispatch: `ql:` for the default
-- namespace, `ql:{<name>}:` for a named one (namespace_prefix).
local function load_keys()
  -- The keys the core has one of: config, queues, paused_queues, workers,
  -- completed, failures, tracked, tags.
  function H.key(name) return prefix .. name end

  -- Pub/sub channels: log and the tracked-job channels (put, popped,
  -- stalled, completed, failed, canceled, track, untrack).
  function H.channel(name) return prefix .. name end
end

-- The keys named after a job, queue, worker or day. (Groups of their own, so
-- that a call makes the closures of the names it uses: config.get needs one.)
local function load_keys_by_name()
  -- A job's hash and the three keys named after its jid. A jid ending in
  -- one of these suffixes would name another job's key (reserved_suffix).
  function H.job_key(jid) return prefix .. 'j:' .. jid end
  function H.history_key(jid) return prefix .. 'j:' .. jid .. '-history' end
  function H.dependents_key(jid) return prefix .. 'j:' .. jid .. '-dependents' end
  function H.dependencies_key(jid) return prefix .. 'j:' .. jid .. '-dependencies' end

  -- A queue's sorted sets: work, locks, scheduled, depends, recur.
  function H.queue_key(queue, suffix) return prefix .. 'q:' .. queue .. '-' .. suffix end

  function H.worker_jobs_key(worker) return prefix .. 'w:' .. worker .. ':jobs' end

  -- Daily statistics: `kind` is wait, run or stats; `day` the day bin's text.
  function H.stats_key(kind, day, queue) return prefix .. 's:' .. kind .. ':' .. day .. ':' .. queue end

  -- Throttles (see throttle.lua), with reqless-core's names: a throttle's
  -- hash ql:th:<id> and its `-locks` and `-pending` sets; a queue's own
  -- throttle has the id ql:q:<queue>. (Here rather than in a group of their
  -- own: pop and complete look at their queue's throttle keys every time.)
  function H.throttle_key(id, suffix)
    if suffix == nil then return prefix .. 'th:' .. id end
    return prefix .. 'th:' .. id .. '-' .. suffix
  end
  -- A queue throttle's id is a name, not a key: `ql:q:<queue>` in every
  -- namespace (its keys, built by throttle_key, carry the namespace), so
  -- that jobs show the same throttle names wherever they live.
  function H.queue_throttle(queue) return KEY_PREFIX .. 'q:' .. queue end
end

-- The names the commonest calls (put, pop, complete, heartbeat) do not need:
-- a group of their own, so that those calls make fewer closures.
local function load_keys_rare()
  -- A worker's own channel (lock_lost, canceled).
  function H.worker_channel(worker) return prefix .. 'w:' .. worker end

  function H.recur_key(jid) return prefix .. 'r:' .. jid end
  function H.tag_key(tag) return prefix .. 't:' .. tag end
  function H.failure_group_key(group) return prefix .. 'f:' .. group end
end

------------------------------------------------------------------------------
-- Numbers and arguments
------------------------------------------------------------------------------

-- Numbers as the core writes them, and slicing of long argument lists.
local function load_numbers()
  -- Call `redis.call(cmd, key, <prefix...>, items...)` in slices of CHUNK items.
  function H.call_chunked(cmd, key, items)
    local n = #items
    if n <= CHUNK then
      if n > 0 then redis.call(cmd, key, unpack(items)) end
      return
    end
    local i = 1
    while i <= n do
      local last = math.min(i + CHUNK - 1, n)
      redis.call(cmd, key, unpack(items, i, last))
      i = last + 1
    end
  end

  -- Day bin of a time: midnight UTC, floor-modulo so negative times work too.
  function H.day_bin(t)
    return t - (t % 86400)
  end

  -- The job `time` field is the one number written with fixed decimals.
  -- Printing 20 exact decimals is slow, and the calls of one pipeline share
  -- their `now`, so the last result is kept (-0 and 0 print differently).
  --
  -- From 2^23 (97 days after 1970) up to 2^53 a time has at most 29 bits
  -- after the point, so its fraction times 1e10 is exact in a double, as is
  -- the fraction of that times 1e10 again: the 20 decimals are those two
  -- whole numbers of 10 digits each, and the rest tells the rounding
  -- (printf's: to nearest, an exact half to the even digit; the fraction
  -- is at most 1 - 2^-29, so no carry reaches the whole part). One printf
  -- of three integers costs less than glibc's exact %.20f, some 1,500
  -- instructions. Other times take printf's %.20f itself.
  local time_memo_number, time_memo_text
  function H.format_time(t)
    if t ~= time_memo_number or t == 0 then
      local text
      if t >= 8388608 and t < 9007199254740992 then
        local whole = t - t % 1
        local high = (t - whole) * 1e10
        local high_digits = high - high % 1
        local low = (high - high_digits) * 1e10
        local low_digits = low - low % 1
        local rest = low - low_digits
        if rest > 0.5 or (rest == 0.5 and low_digits % 2 == 1) then
          low_digits = low_digits + 1
          if low_digits == 1e10 then low_digits, high_digits = 0, high_digits + 1 end
        end
        text = string.format('%d.%010d%010d', whole, high_digits, low_digits)
      else
        text = string.format('%.20f', t)
      end
      time_memo_number, time_memo_text = t, text
    end
    return time_memo_text
  end

  -- Numbers passed to redis.call are turned into text by Redis with printf's
  -- %.17g, which costs thousands of instructions each time. Two cheaper ways
  -- to the same result:
  -- * int_text: a whole number below 1e15 reads the same in %d form (far
  --   cheaper to make); anything else, -0 included, is left for Redis.
  -- * score_text: for sorted-set scores and range bounds, where only the
  --   number it parses to matters: the client's own text of `now`, else
  --   the %.17g text itself (expiry_text), a value used many times in one
  --   call (a batch's lock expiry) formatted once.
  -- The texts of small counts (retries, counters, histogram buckets) are
  -- kept once made.
  local small_int_texts = {}
  function H.int_text(x)
    if type(x) == 'number' and x % 1 == 0 and x < 1e15 and x > -1e15 and (x ~= 0 or 1 / x > 0) then
      if x >= 0 and x < 1024 then
        local text = small_int_texts[x]
        if text == nil then
          text = string.format('%d', x)
          small_int_texts[x] = text
        end
        return text
      end
      return string.format('%d', x)
    end
    return x
  end

  -- Lua's own text for a number (%.14g, as `..` and tostring make it), made
  -- cheaply for whole numbers below 1e14: for day bins in key names and
  -- histogram bucket names.
  function H.lua_text(x)
    if x % 1 == 0 and x < 1e14 and x > -1e14 and (x ~= 0 or 1 / x > 0) then
      return string.format('%d', x)
    end
    return tostring(x)
  end

  -- expiry_text: the %.17g text of a number (what Redis itself prints for
  -- a Lua number), for a lock expiry, which is both a score and the job's
  -- stored `expires`. Two entries: a pop or heartbeat alternates between
  -- `now` and the lock expiry.
  local score_memo_number, score_memo_text, score_memo_number2, score_memo_text2
  function H.expiry_text(x)
    if x == score_memo_number and x ~= 0 then return score_memo_text end
    if x == score_memo_number2 and x ~= 0 then return score_memo_text2 end
    score_memo_number2, score_memo_text2 = score_memo_number, score_memo_text
    score_memo_number, score_memo_text = x, string.format('%.17g', x)
    return score_memo_text
  end

  -- score_text: the same, but `now` needs no printing: the text the client
  -- sent reads as the very same number, and only that number matters where
  -- a score or range bound is passed. Never for a text stored as it is (a
  -- hash field, a member): that is expiry_text's.
  --
  -- Redis reads a score with the same strtod that Lua read `now` with, and
  -- takes the same texts but for spaces around it (Lua skips them, Redis
  -- refuses) and a NUL inside (Lua stops there): any other text is passed
  -- on. (Looked at on first use only, so that calls without scores pay
  -- nothing; two byte looks and a plain find, as a pattern costs more.)
  local checked_text, checked_ok = nil, false
  function H.score_text(x)
    if x == now_memo_number and x ~= 0 then
      local text = now_memo_text
      if text ~= checked_text then
        checked_text = text
        checked_ok = type(text) == 'string' and string.byte(text, 1) > 32 and string.byte(text, -1) > 32 and
          not string.find(text, '\0', 1, true)
      end
      if checked_ok then return text end
    end
    return H.expiry_text(x)
  end

  -- Work-set score: higher pops first; equal priorities pop oldest first.
  function H.work_score(priority, t)
    return priority - (t / 10000000000)
  end
end

-- Reading a command's arguments: option pairs and JSON.
local function load_args()
  -- Odd-count check shared by put and recur: the reference's message ends in
  -- the address of a Lua table, which clients match only by prefix.
  function H.parse_options(args, first)
    local options = {}
    local last = #args
    if (last - first + 1) % 2 == 1 then
      error('Odd number of additional args: ' .. tostring(options))
    end
    for i = first, last, 2 do
      options[args[i]] = args[i + 1]
    end
    return options
  end

  -- Pairs without an odd-count check; a trailing name without value is absent.
  -- (The result is only read: no pairs share one empty table.)
  local no_pairs = {}
  function H.parse_pairs(args, first)
    if args[first + 1] == nil then return no_pairs end
    local options = {}
    local i = first
    while args[i + 1] ~= nil do
      options[args[i]] = args[i + 1]
      i = i + 2
    end
    return options
  end

  -- JSON argument check used throughout: undecodable text raises the decoder's
  -- own error; text that decodes to `false` is reported with the caller's
  -- message. Returns the decoded value.
  function H.decode_json_arg(text, message)
    local value = cjson.decode(text)
    if value == false then
      error(message .. tostring(text))
    end
    return value
  end
end

-- The checks that refuse a bad argument before any write.
local function load_checks()
  -- The suffix of a job key (see load_keys_by_name) that `jid` ends in, or
  -- nil: a job with such a jid would have its hash at another job's history,
  -- dependents or dependencies key, so such jids are refused wherever one
  -- enters. (All
  -- three suffixes end in `y` or `s`; most jids are ruled out by that.)
  function H.reserved_suffix(jid)
    jid = tostring(jid)
    local last = string.byte(jid, -1)
    if last ~= 121 and last ~= 115 then return nil end
    if string.sub(jid, -8) == '-history' then return '-history' end
    if string.sub(jid, -11) == '-dependents' then return '-dependents' end
    if string.sub(jid, -13) == '-dependencies' then return '-dependencies' end
    return nil
  end

  -- A number argument: what Lua's tonumber reads (decimal, exponent, hex,
  -- surrounding space) when it is finite, else nil. tonumber also reads inf
  -- and nan, which no argument may be: x - x is 0 for a finite x only.
  -- tonumber costs two strtod calls (some 1,700 instructions even for `0`),
  -- and the same few texts come back (a put's delay and priority `0`, its
  -- retries `5`): the number of a finite text is kept once read (the same
  -- text always reads as the same number; in the function-library form
  -- across calls, at most a thousand texts, then the memo starts afresh).
  local finite_numbers, finite_count = nil, 0
  function H.finite(text)
    if finite_numbers == nil or finite_count >= 1000 then finite_numbers, finite_count = {}, 0 end
    local number = finite_numbers[text]
    if number ~= nil then return number end
    number = tonumber(text)
    if number ~= nil and number - number == 0 then
      finite_numbers[text] = number
      finite_count = finite_count + 1
      return number
    end
    return nil
  end

  -- A number argument or the caller's error naming the offending text.
  function H.number_arg(text, message)
    local number = H.finite(text)
    if number == nil then error(message .. tostring(text)) end
    return number
  end

  -- An offset or count that Redis takes as an index or LIMIT must be whole:
  -- refused before any write, with the text Redis itself gave the
  -- reference for a fraction (clients may match it). `text` is the argument.
  function H.require_whole(number, label, text)
    if number % 1 ~= 0 then
      error(label .. ' value is not an integer or out of range: ' .. tostring(text))
    end
  end

  -- A number the core stores as a count (retries, backlog) must be a whole
  -- number of at least 0 (the reference stored -1 and 1.5, which later
  -- broke retries and spawning). `text` is the argument.
  function H.require_count(number, label, text)
    if number < 0 or number % 1 ~= 0 then
      error(label .. ' must be a non-negative integer: ' .. tostring(text))
    end
  end

  -- A decoded JSON value that must be a list of names (jids, tags): an array
  -- of strings or numbers, or `{}`, which is how cjson writes an empty array
  -- (clients send it back). Anything else (an object with keys, a scalar,
  -- null, nested lists) is refused with `message`, before any write: the
  -- reference read an object as an empty list, silently dropping it.
  function H.require_list(value, message)
    if type(value) ~= 'table' then error(message) end
    local count = 0
    for _, item in pairs(value) do
      local kind = type(item)
      if kind ~= 'string' and kind ~= 'number' then error(message) end
      count = count + 1
    end
    if count ~= #value then error(message) end
    return value
  end

  -- A JSON list argument: undecodable text raises the decoder's error, the
  -- literal `false` gives `message` .. text (the reference's text), anything
  -- but a list (require_list) the same with ` (must be a JSON array)`.
  function H.json_list(text, message)
    local value = H.decode_json_arg(text, message)
    return H.require_list(value, message .. text .. ' (must be a JSON array)')
  end
end

------------------------------------------------------------------------------
-- Configuration
------------------------------------------------------------------------------

local function load_config()
  -- A numeric option as the core uses it: the stored value when its text is
  -- a finite Lua-numeric number, else the built-in default, else `fallback`.
  -- A stored value that is not (`60s`, `abc`, `inf`, `nan`: config.set
  -- refuses them, but any client can HSET the hash) counts as unset, so that
  -- one bad value cannot stop pops, heartbeats, completes or retention.
  -- config.get still shows the stored text. (x - x is 0 for finite x only.)
  function H.config_number(name, fallback)
    local cached = config_cache[name]
    if cached == nil then
      if config_whole then
        cached = false
      else
        cached = redis.call('hget', H.key('config'), name)
      end
      config_cache[name] = cached
    end
    if cached then
      local number = tonumber(cached)
      if number ~= nil and number - number == 0 then return number end
    end
    local default = CONFIG_DEFAULTS[name]
    if default ~= nil then return default end
    return fallback
  end

  -- Whether a NEW job is stored in the compact layout: the option
  -- job-layout is `compact` (`spec`, or unset: today's layout, the one
  -- qless-core's own script reads). A job already stored keeps its layout;
  -- every command reads both (see job_fill_defaults, history_append).
  function H.compact_layout()
    local cached = config_cache['job-layout']
    if cached == nil then
      if config_whole then
        cached = false
      else
        cached = redis.call('hget', H.key('config'), 'job-layout')
      end
      config_cache['job-layout'] = cached
    end
    return cached == 'compact'
  end

  -- Read the listed options not read yet by this call, all in one HMGET;
  -- or, at the first read of a call, the whole hash when it holds at most a
  -- third as many options as are asked for. Each field of a reply costs a
  -- script about as much as a small command does (Redis converts it into a
  -- Lua value and grows the table it lands in), and most installations keep
  -- few options, often none: then one HLEN (and an HGETALL of what little
  -- there is) answers this prefetch and every later lookup of the call.
  function H.config_prefetch(names)
    if config_whole then return end
    -- Usually nothing has been read yet (the first command of a call) or
    -- everything has (a pop after a complete): no list to build then.
    local missing = names
    if next(config_cache) == nil then
      if #names > 1 then
        local config = H.key('config')
        local size = redis.call('hlen', config)
        if size * 3 <= #names then
          if size > 0 then
            local stored = redis.call('hgetall', config)
            for i = 1, #stored, 2 do config_cache[stored[i]] = stored[i + 1] end
          end
          config_whole = true
          return
        end
      end
    else
      missing = {}
      for i = 1, #names do
        if config_cache[names[i]] == nil then missing[#missing + 1] = names[i] end
      end
      if #missing == 0 then return end
    end
    local values = redis.call('hmget', H.key('config'), unpack(missing))
    for i = 1, #missing do config_cache[missing[i]] = values[i] end
  end

  -- The names of a queue's own options, and the lists of options that pop
  -- and complete prefetch, made once per queue name: putting the
  -- names together and building the lists cost a pop or a complete some
  -- thousands of instructions each time. (In the function-library form
  -- they outlive the call; at most a thousand queues are kept.)
  -- (The memo is made at first use: a put, which loads this group too,
  -- makes no table for it.)
  local queue_option_names, queue_option_count = nil, 0
  function H.queue_options(queue)
    local names = queue_option_names and queue_option_names[queue]
    if names ~= nil then return names end
    if queue_option_names == nil or queue_option_count >= 1000 then queue_option_names, queue_option_count = {}, 0 end
    local heartbeat, concurrency = queue .. '-heartbeat', queue .. '-max-concurrency'
    local rate, window = queue .. '-rate-limit', queue .. '-rate-window'
    names = {
      heartbeat = heartbeat, concurrency = concurrency, rate = rate, window = window,
      -- (grace-period only matters when a lock has expired.)
      for_pop = {heartbeat, 'heartbeat', concurrency, 'max-job-history', rate, window},
      -- Those of the pop a worker usually sends next in the same call too.
      for_complete = {'max-job-history', 'jobs-history', 'jobs-history-count', heartbeat, 'heartbeat',
        concurrency, rate, window},
    }
    queue_option_names[queue] = names
    queue_option_count = queue_option_count + 1
    return names
  end

  -- Lock length for a queue: `<queue>-heartbeat`, else `heartbeat`, else 60.
  -- A caller that has prefetched both options passes `per_queue_name`
  -- (`<queue>-heartbeat`).
  function H.heartbeat_for(queue, per_queue_name)
    if per_queue_name == nil then
      per_queue_name = queue .. '-heartbeat'
      H.config_prefetch({per_queue_name, 'heartbeat'})
    end
    local per_queue = H.config_number(per_queue_name, nil)
    if per_queue ~= nil then return per_queue end
    return H.config_number('heartbeat', 60)
  end
end

------------------------------------------------------------------------------
-- Events (exact texts: conformance compares them byte for byte)
------------------------------------------------------------------------------

-- The events of put and complete, the commonest, in groups of their own.
local function load_put_events()
  function H.event_put(jid, queue)
    return '{"jid":' .. encode(jid) .. ',"event":"put","queue":' .. encode(queue) .. '}'
  end

end

-- Messages for one worker, on its own channel.
local function load_worker_messages()
  function H.publish_to_worker(worker, payload)
    redis.call('publish', H.worker_channel(worker), payload)
  end

  -- Tell `worker` that the job it held was taken from it: the lock_lost
  -- event on its own channel, then the same text on ql:log.
  function H.announce_lock_lost(jid, worker)
    local payload = '{"jid":' .. encode(jid) .. ',"event":"lock_lost","worker":' .. encode(worker) .. '}'
    H.publish_to_worker(worker, payload)
    H.publish('log', payload)
  end
end

local function load_complete_events()
  function H.event_completed(jid, queue)
    return '{"jid":' .. encode(jid) .. ',"event":"completed","queue":' .. encode(queue) .. '}'
  end

  function H.event_advanced(jid, to, queue)
    return '{"jid":' .. encode(jid) .. ',"to":' .. encode(to) .. ',"event":"advanced","queue":' ..
      encode(queue) .. '}'
  end
end

local function load_other_events()
  -- A JSON string literal with cjson's escaping, or `false`.
  function H.json_value(v)
    if v == false or v == nil then return 'false' end
    return encode(v)
  end

  function H.event_failed(message, jid, group, worker)
    return '{"message":' .. encode(message) .. ',"jid":' .. encode(jid) .. ',"group":' ..
      encode(group) .. ',"event":"failed","worker":' .. encode(worker) .. '}'
  end

  function H.event_canceled(jid, queue, worker)
    return '{"jid":' .. encode(jid) .. ',"queue":' .. H.json_value(queue) ..
      ',"event":"canceled","worker":' .. H.json_value(worker) .. '}'
  end

  function H.event_config_set(option, value)
    return '{"option":' .. encode(option) .. ',"event":"config_set","value":' .. encode(value) .. '}'
  end

  function H.event_config_unset(option)
    return '{"event":"config_unset","option":' .. encode(option) .. '}'
  end
end

local function load_publish()
  function H.publish(channel, payload)
    redis.call('publish', H.channel(channel), payload)
  end

  -- Tracked-only bare-jid channels (put, popped, stalled, completed, failed,
  -- canceled). `tracked` may be passed when the caller already knows it.
  -- Few jobs are ever tracked: once this call knows that ql:tracked does
  -- not exist, no lookup is needed (`track` forgets what is known).
  function H.is_tracked(jid)
    if tracking == nil then tracking = redis.call('exists', H.key('tracked')) == 1 end
    if not tracking then return false end
    return redis.call('zscore', H.key('tracked'), jid) ~= false
  end

  -- The same for many jids in one ZMSCORE (in slices): flags[i] tells jids[i].
  function H.tracked_flags(jids)
    local flags = {}
    if tracking == false then return flags end
    for first = 1, #jids, CHUNK do
      local last = math.min(first + CHUNK - 1, #jids)
      local scores = redis.call('zmscore', H.key('tracked'), unpack(jids, first, last))
      for i = 1, #scores do flags[first + i - 1] = scores[i] ~= false end
    end
    return flags
  end
end

------------------------------------------------------------------------------
-- History
------------------------------------------------------------------------------

local function load_history()
  -- Convert an old-format `history` field (a JSON list of objects) into list
  -- entries appended after whatever the list already holds.
  function H.migrate_history(jid, legacy)
    local key = H.history_key(jid)
    local entries = {}
    for _, old in ipairs(cjson.decode(legacy)) do
      local q = old['q']
      entries[#entries + 1] = encode({math.floor(old['put']), 'put', {q = q}})
      if old['popped'] then
        entries[#entries + 1] = encode({math.floor(old['popped']), 'popped', {worker = old['worker']}})
      end
      if old['failed'] then
        entries[#entries + 1] = encode({math.floor(old['failed']), 'failed'})
      end
      if old['done'] then
        entries[#entries + 1] = encode({math.floor(old['done']), 'done'})
      end
    end
    if #entries > 0 then H.call_chunked('rpush', key, entries) end
    redis.call('hdel', H.job_key(jid), 'history')
  end

  -- Trim before appending, exactly as the reference does: keep the first entry
  -- and the last N-2 of the rest (N = max-job-history; N <= 0 is unlimited;
  -- N = 2 keeps everything and N = 1 keeps first + newest, as quirks). The
  -- LPOP/LTRIM/LPUSH dance is skipped when it would change nothing.
  function H.trim_history(key, limit)
    local rest = redis.call('llen', key) - 1
    local needed
    if limit == 1 then needed = rest > 0 else needed = rest > limit - 2 end
    if not needed then return end
    local first = redis.call('lpop', key)
    redis.call('ltrim', key, -(limit - 2), -1)
    redis.call('lpush', key, first)
  end

  -- Append `[floor(when), what]` or `[floor(when), what, extra]`.
  --
  -- For a whole N >= 3 the trim runs after the append, on the length RPUSH
  -- returns: keeping the first entry and the newest N-1 of the longer list is
  -- the same as keeping the first and the newest N-2 and then appending, so
  -- the usual append is one command instead of LLEN + RPUSH. The quirky
  -- limits (1, fractions) take the reference's trim-first path unchanged, and
  -- text that is not a number fails in the comparison below, before any
  -- write, as it always did.
  -- The entry text is what cjson.encode makes of `[floor(when), what]` or
  -- `[floor(when), what, extra]`. For the usual entries it is put together
  -- directly, which costs a third: `what` one of the core's own words, the
  -- time a whole number below 1e14 other than -0 (cjson writes it with
  -- %.14g, which is then its %d text), and no extra or an extra of one
  -- string field q, worker or group (one key, so one key order). The time's
  -- text is kept for the next entry (a pop and a complete in one call share
  -- their `now`). Anything else goes through cjson.
  local HISTORY_WORDS = {
    put = '"put"', popped = '"popped"', done = '"done"', failed = '"failed"',
    ['timed-out'] = '"timed-out"',
  }
  local HISTORY_EXTRAS = { q = '{"q":', worker = '{"worker":', group = '{"group":' }
  local history_time, history_time_text

  local function history_entry(when, what, extra)
    local t = math.floor(when)
    local word = HISTORY_WORDS[what]
    if word ~= nil and t < 1e14 and t > -1e14 and (t ~= 0 or 1 / t > 0) then
      if t ~= history_time then
        history_time, history_time_text = t, string.format('%d', t)
      end
      if extra == nil then
        return '[' .. history_time_text .. ',' .. word .. ']'
      end
      local k, v = next(extra)
      local prefix = HISTORY_EXTRAS[k]
      if prefix ~= nil and type(v) == 'string' and next(extra, k) == nil then
        return '[' .. history_time_text .. ',' .. word .. ',' .. prefix .. encode(v) .. '}]'
      end
    end
    if extra ~= nil then return encode({t, what, extra}) end
    return encode({t, what})
  end

  -- Migrate if needed. `legacy` is the job's `history` field when the caller
  -- already read it (false when absent); nil means "not read, look it up".
  -- Returns the job's `hn` (see below) when it looked the fields up itself,
  -- else `hn` as given.
  function H.ensure_history_migrated(jid, legacy, hn)
    if legacy == nil or hn == nil then
      local f = redis.call('hmget', H.job_key(jid), 'history', 'hn')
      if legacy == nil then legacy = f[1] end
      if hn == nil then hn = f[2] end
    end
    if legacy then
      -- (Its entries go after those of a hash-held history, in the list.)
      if hn then
        H.history_spill(jid, hn)
        hn = false
      end
      H.migrate_history(jid, legacy)
    end
    return hn
  end

  -- The history entries as stored, from the hash or the list.
  function H.history_raw(jid, legacy, hn)
    hn = H.ensure_history_migrated(jid, legacy, hn)
    if hn then return H.history_hash_entries(jid, hn) end
    return redis.call('lrange', H.history_key(jid), '0', '-1')
  end

  -- Returns the job's `hn` afterwards (false: the history is in the list).
  -- A job whose history is in its hash (compact layout) passes its `hn`
  -- field and, when it has read them, its `time` and `queue` (see
  -- load_history_hash); `hn` nil means "not read".
  function H.history_append(jid, when, what, extra, legacy, hn, time, queue)
    hn = H.ensure_history_migrated(jid, legacy, hn)
    local limit = H.config_number('max-job-history', 100)
    if hn then
      local kept = H.history_hash_append(jid, when, what, extra, hn, limit, time, queue)
      if kept then return kept end
    end
    local entry = history_entry(when, what, extra)
    local key = H.history_key(jid)
    if limit <= 0 or limit == 2 then
      redis.call('rpush', key, entry)
    elseif limit < 3 or limit % 1 ~= 0 then
      H.trim_history(key, limit)
      redis.call('rpush', key, entry)
    elseif redis.call('rpush', key, entry) > limit then
      local first = redis.call('lpop', key)
      redis.call('ltrim', key, 1 - limit, -1)
      redis.call('lpush', key, first)
    end
    return false
  end

  -- The same entry text, for the hash-held history (load_history_hash).
  function H.history_entry(when, what, extra)
    return history_entry(when, what, extra)
  end

  -- History as the list of objects a job object shows: the extra's fields,
  -- then `when` and `what`, which win over same-named extra fields.
  function H.history_read(jid, legacy, hn)
    local raw = H.history_raw(jid, legacy, hn)
    local out = {}
    for i = 1, #raw do
      local entry = cjson.decode(raw[i])
      local item = {}
      local extra = entry[3]
      if extra ~= nil then
        for k, v in pairs(extra) do item[tostring(k)] = v end
      end
      item['when'] = entry[1]
      item['what'] = entry[2]
      out[i] = item
    end
    return out
  end
end

------------------------------------------------------------------------------
-- History kept in the job's hash (compact layout)
------------------------------------------------------------------------------

-- Loaded only by commands that meet a job whose history is in its hash.
local function load_history_hash()
  -- The compact layout (option job-layout, see put) keeps a short history
  -- in the job's own hash instead of a `-history` list, a whole key that
  -- costs more than its entries: `hn` holds the count and h1..hN the
  -- entries, the same texts the list would hold. A hash is compact in Redis
  -- (a listpack) only while every value fits hash-max-listpack-value (64
  -- bytes by default) and it has at most hash-max-listpack-entries fields
  -- (128): a longer entry, more entries than HASH_HISTORY_MAX, or a
  -- max-job-history that trims (or is not a whole number >= 3) moves the
  -- history to the list for good (hn goes), where the rules are the
  -- reference's. A job without `hn` keeps its history in the list, as every
  -- job in today's layout does; callers pass the `hn` field they read (false
  -- when absent, nil when not read).
  --
  -- A job that has only been put stores no entry at all: `hn` is `p`, and
  -- its one entry is `[floor(time), "put", {"q": queue}]`, made from its
  -- `time` and `queue` fields, which put (or the recurring spawn) writes
  -- with the same `now` and queue as that entry. Every command that changes
  -- either field appends to the history first (pop, complete, put, unfail)
  -- or runs on jobs that have more history (retry), so the entry is written
  -- out (as h1) by the first append, while the fields still hold it.
  local HASH_HISTORY_MAX = 32
  local HASH_ENTRY_MAX = 64
  local IMPLICIT_PUT = 'p'

  local function hash_history_names(n)
    local names = {}
    for i = 1, n do names[i] = 'h' .. i end
    return names
  end

  -- The implicit put entry of a job whose `hn` is `p`, as the list would
  -- hold it, and as the hash stores it (coded, see below) once written out.
  -- A caller that has read the job's `time` and `queue` passes them.
  local function implicit_put(jid, time, queue)
    if not time then
      local f = redis.call('hmget', H.job_key(jid), 'time', 'queue')
      time, queue = f[1], f[2]
    end
    local when, extra = tonumber(time), {q = queue}
    return H.history_entry(when, 'put', extra), when, extra
  end

  -- The entries the core writes most are stored coded in the hash: a
  -- letter for what happened and its one extra field, the whole time, and
  -- after a `:` the field's value as it is (`o1700000000:worker-1` for
  -- `[1700000000,"popped",{"worker":"worker-1"}]`). Decoding runs
  -- history_entry on the same time, word and value, so it gives back the
  -- very text the list would hold. Only entries history_entry writes
  -- directly are coded (a whole time within +-1e14, not -0, a string
  -- value); any other is stored as its JSON text, which starts with `[`.
  local CODE_OF = { put = 'p', popped = 'o', done = 'd', failed = 'f', ['timed-out'] = 't' }
  local EXTRA_OF = { put = 'q', popped = 'worker', failed = 'group' }
  local WHAT_OF = { p = 'put', o = 'popped', d = 'done', f = 'failed', t = 'timed-out' }

  local function coded_entry(when, what, extra, text)
    local code = CODE_OF[what]
    local t = math.floor(when)
    if code == nil or not (t < 1e14 and t > -1e14 and (t ~= 0 or 1 / t > 0)) then return text end
    local name = EXTRA_OF[what]
    if extra == nil then
      if name ~= nil then return text end
      return code .. string.format('%d', t)
    end
    local k, v = next(extra)
    if k ~= name or type(v) ~= 'string' or next(extra, k) ~= nil then return text end
    return code .. string.format('%d', t) .. ':' .. v
  end

  local function decoded_entry(stored)
    local what = WHAT_OF[string.sub(stored, 1, 1)]
    if what == nil then return stored end
    local colon = string.find(stored, ':', 2, true)
    if colon == nil then return H.history_entry(tonumber(string.sub(stored, 2)), what, nil) end
    return H.history_entry(tonumber(string.sub(stored, 2, colon - 1)), what,
      {[EXTRA_OF[what]] = string.sub(stored, colon + 1)})
  end

  -- The entries of a hash-held history (as the list would hold them).
  function H.history_hash_entries(jid, hn)
    if hn == IMPLICIT_PUT then return {(implicit_put(jid))} end
    local n = tonumber(hn) or 0
    if n < 1 then return {} end
    local stored = redis.call('hmget', H.job_key(jid), unpack(hash_history_names(n)))
    for i = 1, #stored do stored[i] = decoded_entry(stored[i]) end
    return stored
  end

  -- Move a hash-held history to the list (appended after whatever the list
  -- holds, which for such a job is nothing).
  function H.history_spill(jid, hn)
    local key = H.job_key(jid)
    local entries = H.history_hash_entries(jid, hn)
    if #entries > 0 then H.call_chunked('rpush', H.history_key(jid), entries) end
    redis.call('hdel', key, 'hn', unpack(hash_history_names(tonumber(hn) or 0)))
  end

  -- Write out the implicit put entry (as h1) of a job about to have its
  -- `time` or `queue` overwritten without a history append of its own (a
  -- recurring child taking over a job of its name). Returns the new `hn`.
  function H.history_settle(jid, hn)
    if hn ~= IMPLICIT_PUT then return hn end
    local text, when, extra = implicit_put(jid)
    redis.call('hset', H.job_key(jid), 'h1', coded_entry(when, 'put', extra, text), 'hn', '1')
    return 1
  end

  -- Append to a hash-held history (`hn` as stored, or 0 for a new job of
  -- the compact layout; `limit` is max-job-history). Returns the new `hn`,
  -- or false when the history has moved to the list (the caller appends
  -- there): see the rules above. A new job's first put is implicit (see
  -- IMPLICIT_PUT) when `time` will read back as exactly `when`
  -- (compact_time) and the entry is `{q = <queue>}`.
  function H.history_hash_append(jid, when, what, extra, hn, limit, time, queue)
    -- (Limits that are not whole numbers make the list's trim fail, or not,
    -- by the reference's rules: those jobs take the list path.)
    if hn == 0 and what == 'put' and extra ~= nil and type(extra.q) == 'string' and next(extra, 'q') == nil and
        (limit <= 0 or limit % 1 == 0) and tonumber(H.compact_time(when)) == when then
      redis.call('hset', H.job_key(jid), 'hn', IMPLICIT_PUT)
      return IMPLICIT_PUT
    end
    local entry = H.history_entry(when, what, extra)
    local coded = coded_entry(when, what, extra, entry)
    local first = nil
    local n = tonumber(hn) or 0
    if hn == IMPLICIT_PUT then
      local text, put_when, put_extra = implicit_put(jid, time, queue)
      first, n = coded_entry(put_when, 'put', put_extra, text), 1
    end
    n = n + 1
    if #coded <= HASH_ENTRY_MAX and (first == nil or #first <= HASH_ENTRY_MAX) and n <= HASH_HISTORY_MAX and
        (limit <= 0 or (limit >= 3 and limit % 1 == 0 and n <= limit)) then
      if first then
        redis.call('hset', H.job_key(jid), 'h1', first, 'h2', coded, 'hn', '2')
      else
        redis.call('hset', H.job_key(jid), 'h' .. n, coded, 'hn', H.int_text(n))
      end
      return n
    end
    H.history_spill(jid, hn)
    return false
  end
end

------------------------------------------------------------------------------
-- Job objects
------------------------------------------------------------------------------

local function load_job_read()
  local JOB_FIELDS = {
    'jid', 'klass', 'state', 'queue', 'worker', 'priority', 'expires', 'retries',
    'remaining', 'data', 'tags', 'failure', 'spawned_from_jid', 'history', 'throttles',
    -- Not part of the job object unless reported (see lua/progress.lua).
    'progress', 'progress-of', 'time',
    -- The count of a history kept in the hash (compact layout, see
    -- history_append); at JOB_HN.
    'hn',
  }
  local JOB_HN = 19
  -- Where the `f` pop passes holds the job's `hn` (queue.lua's POP_HN).
  local POPPED_HN = 18
  -- Where those three are in JOB_FIELDS (in this order), found by name so
  -- that fields added to the list cannot shift what is read as progress.
  local PROGRESS_AT
  for i = 1, #JOB_FIELDS do
    if JOB_FIELDS[i] == 'progress' then PROGRESS_AT = i end
  end

  -- A job's dependents and dependencies. Most jobs have neither set: one
  -- EXISTS then answers for both.
  function H.job_links(jid)
    local dependents_key = H.dependents_key(jid)
    local dependencies_key = H.dependencies_key(jid)
    if redis.call('exists', dependents_key, dependencies_key) > 0 then
      return redis.call('smembers', dependents_key), redis.call('smembers', dependencies_key)
    end
    return {}, {}
  end

  -- A job stored in the compact layout (option job-layout, see put) has no
  -- `jid` field (the key holds the jid) and leaves out every field that
  -- holds its default: `priority` 0, `tags` {}, `worker` empty, `expires`
  -- 0, `retries` 5, `remaining` equal to `retries`, `failure` {}. Its
  -- `state` is always there. This puts those texts back into `f` (fields
  -- of JOB_FIELDS, in order) exactly as today's layout stores them, so that
  -- every reply is the same whichever layout the job is in. A hash with
  -- neither `jid` nor both `klass` and `state` is no job (false: pop writes
  -- a few fields to a jid of its work set whose hash is gone); one with
  -- `jid` is left as it is.
  function H.job_fill_defaults(jid, f)
    if f[1] then return true end
    if not f[3] or not f[2] then return false end
    f[1] = jid
    if not f[5] then f[5] = '' end
    if not f[6] then f[6] = '0' end
    if not f[7] then f[7] = '0' end
    if not f[8] then f[8] = '5' end
    if not f[9] then f[9] = f[8] end
    if not f[11] then f[11] = '{}' end
    return true
  end

  -- The job as get/multiget/pop/peek/track return it (a Lua table ready for
  -- cjson), or nil when the hash is no job (see job_fill_defaults). A caller
  -- that has just read the hash may pass `f` (HMGET of JOB_FIELDS, in order,
  -- with its own updates applied, `history` set to false once migrated and
  -- f[POPPED_HN] the `hn` field after them) and `tracked` when it already
  -- knows it.
  --
  -- A job whose current run reported progress (job.progress) has `progress`
  -- besides; no other job's object changes, so qless-core's replies stay
  -- byte for byte. Callers that pass `f` (pop) get no progress: a job just
  -- popped has none yet.
  function H.job_object(jid, f, tracked)
    local progress = nil
    local hn
    if f == nil then
      f = redis.call('hmget', H.job_key(jid), unpack(JOB_FIELDS))
      hn = f[JOB_HN]
      -- Shown while the run that reported it lasts: its `time` (the pop
      -- time) is still the job's.
      local reported, of, time = f[PROGRESS_AT], f[PROGRESS_AT + 1], f[PROGRESS_AT + 2]
      if reported and of == time then progress = cjson.decode(reported) end
    else
      hn = f[POPPED_HN]
    end
    if not H.job_fill_defaults(jid, f) then return nil end
    if tracked == nil then tracked = H.is_tracked(jid) end
    local tags = f[11] and cjson.decode(f[11]) or {}
    local failure = f[12] and cjson.decode(f[12]) or {}
    local dependents, dependencies = H.job_links(jid)
    local job = {
      jid = f[1],
      klass = f[2],
      state = f[3],
      queue = f[4],
      worker = f[5],
      priority = tonumber(f[6]),
      expires = tonumber(f[7]) or 0,
      retries = tonumber(f[8]),
      remaining = math.floor(tonumber(f[9]) or 0),
      data = f[10],
      tags = tags,
      failure = failure,
      spawned_from_jid = f[13],
      tracked = tracked,
      dependents = dependents,
      dependencies = dependencies,
      history = H.history_read(jid, f[14], hn or false),
    }
    -- Only a job that names throttles of its own shows them: any other job
    -- object stays qless-core's, byte for byte.
    if f[15] then job.throttles = cjson.decode(f[15]) end
    if progress ~= nil then job.progress = progress end
    return job
  end

  -- The same job as `pop.raw` returns it, for clients that convert the stored
  -- text themselves (qless-ts): an array of the fields of JOB_FIELDS up to
  -- spawned_from_jid as stored (absent ones nil), then tracked (1 or 0),
  -- dependents, dependencies, the history entries as stored and, for a job
  -- that names throttles, their stored list; then, only for a job put with a
  -- trace context (f[17], see put), that context, with `false` standing in
  -- for no throttles. No JSON is decoded or encoded, which is most of what a
  -- job object costs.
  -- A job in the compact layout gets its default texts back first
  -- (f[POPPED_HN]: as for job_object).
  function H.job_record(jid, f, tracked)
    local dependents, dependencies = H.job_links(jid)
    H.job_fill_defaults(jid, f)
    local record = {
      f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13],
      tracked and 1 or 0, dependents, dependencies,
      H.history_raw(jid, f[14], f[POPPED_HN] or false), f[15],
    }
    -- (A nil would end the reply's array there: `false` keeps the place.)
    if f[17] then record[18], record[19] = f[15] or false, f[17] end
    return record
  end
end

local function load_job_write()
  -- The `time` field of a job in the compact layout (see job_fill_defaults):
  -- the shortest of %.15g, %.16g and %.17g that reads back as the same
  -- double (%.17g always does), so every wait and run time computed from it
  -- is the same as from format_time's text, in about half the bytes. `time`
  -- is in no reply.
  local compact_memo_number, compact_memo_text
  function H.compact_time(t)
    if t ~= compact_memo_number or t == 0 then
      local text = string.format('%.15g', t)
      if tonumber(text) ~= t then
        text = string.format('%.16g', t)
        if tonumber(text) ~= t then text = string.format('%.17g', t) end
      end
      compact_memo_number, compact_memo_text = t, text
    end
    return compact_memo_text
  end

  -- The texts a compact-layout job does not store (see job_fill_defaults).
  -- `expires` '' is what a failure writes, and reads as 0 too.
  local DEFAULT_TEXTS = {
    priority = '0', tags = '{}', worker = '', expires = '0', retries = '5', failure = '{}',
  }

  -- Write the field/value `pairs` to the compact-layout job at `key`: each
  -- that holds its default is left out (and deleted, when the hash
  -- `existed`: it may hold an older value), as is a value `false` (a field
  -- the job no longer needs), `expires` '' and a
  -- `remaining` equal to the `retries` among the pairs (callers that write
  -- `remaining` write `retries` too).
  function H.job_write_compact(key, existed, pairs)
    local retries = nil
    for i = 1, #pairs, 2 do
      if pairs[i] == 'retries' then retries = pairs[i + 1] end
    end
    local keep, drop = {}, {}
    for i = 1, #pairs, 2 do
      local name, value = pairs[i], pairs[i + 1]
      if value == false or DEFAULT_TEXTS[name] == value or (name == 'expires' and value == '') or
          (name == 'remaining' and value == retries) then
        drop[#drop + 1] = name
      else
        keep[#keep + 1] = name
        keep[#keep + 1] = value
      end
    end
    if #keep > 0 then redis.call('hset', key, unpack(keep)) end
    if existed and #drop > 0 then redis.call('hdel', key, unpack(drop)) end
  end

  -- Count one retry off `remaining` (the first write of a retry or a stall:
  -- Redis refuses a `remaining` that is not an integer). A compact-layout
  -- job without the field has as many left as its `retries`.
  function H.remaining_decrement(key, compact)
    if compact then
      local r = redis.call('hmget', key, 'remaining', 'retries')
      if not r[1] then redis.call('hset', key, 'remaining', r[2] or '5') end
    end
    return tonumber(redis.call('hincrby', key, 'remaining', -1))
  end
end

------------------------------------------------------------------------------
-- Statistics
------------------------------------------------------------------------------

-- Wait and run samples (§10.1): a Welford running mean/variance plus one
-- histogram bucket per sample (s0..s59, m1..m59, h1..h23, d1...).
--
-- Samples for one queue and day are collected in a batch (samples_for,
-- samples_add) and written with one HMGET and one HSET (samples_write):
-- the values are folded in one at a time, in order, exactly as separate
-- read-update-write rounds would (the stored text round-trips exactly), and
-- each bucket ends up incremented once per sample. A command's batch is
-- written when it is done (samples_done), except while `multi` defers
-- them: then every batch of the whole call is written once at its end.
local function load_stats()
  -- (small_number and elapsed are here, with the samples, rather than with
  -- the other number helpers: the calls that use them, pop, complete and
  -- multi, load this group anyway, and a put, which does not, makes fewer
  -- closures when it runs as the EVALSHA script.)
  --
  -- tonumber of a text costs two strtod calls (Lua 5.1's tonumber asks
  -- lua_isnumber, then lua_tonumber), over a thousand instructions even for
  -- `1`. The counts a call reads again and again (a pop's or a multi
  -- command's count, a job's retries) are mostly small whole numbers, so the
  -- number of their canonical text (what int_text makes) is kept once read.
  -- Anything else is read with tonumber, and gives what tonumber gives.
  local small_numbers = {}
  function H.small_number(text)
    local number = small_numbers[text]
    if number ~= nil then return number end
    number = tonumber(text)
    if number ~= nil and number >= 0 and number < 1024 and number % 1 == 0 and H.int_text(number) == text then
      small_numbers[text] = number
    end
    return number
  end

  -- `now` less a stored time (a job's `time` field), or 0 when the text is
  -- not a number (as `now - (tonumber(text) or now)` reads). Arithmetic on a
  -- text converts it with one strtod instead of tonumber's two, the same
  -- number; a text that is no number raises, caught here.
  local function minus(a, b) return a - b end
  function H.elapsed(now, text)
    if text then
      local ok, value = pcall(minus, now, text)
      if ok then return value end
    end
    return 0
  end

  -- Bucket names of samples under a minute, and the day bin's text of the
  -- last day asked, are kept once made.
  local second_buckets = {}
  local day_memo, day_memo_text

  local function day_text(t)
    local day = H.day_bin(t)
    if day ~= day_memo or day == 0 then
      day_memo, day_memo_text = day, H.lua_text(day)
    end
    return day_memo_text
  end

  function H.sample_bucket(val)
    local v = math.floor(val)
    if v < 60 then
      if v >= 0 and (v ~= 0 or 1 / v > 0) then
        local name = second_buckets[v]
        if name == nil then
          name = 's' .. H.lua_text(v)
          second_buckets[v] = name
        end
        return name
      end
      return 's' .. H.lua_text(v)
    elseif v < 3600 then
      return 'm' .. H.lua_text(math.floor(v / 60))
    elseif v < 86400 then
      return 'h' .. H.lua_text(math.floor(v / 3600))
    end
    return 'd' .. H.lua_text(math.floor(v / 86400))
  end

  -- One sample into the running count, mean and sum of squared deviations
  -- (Welford's update, as qless-core keeps them); total nil: the first.
  local function welford(total, mean, vk, val)
    if total == nil then return 1, val, 0 end
    total = total + 1
    local new_mean = mean + (val - mean) / total
    return total, new_mean, vk + (val - new_mean) * (val - mean)
  end

  -- The four stored texts a sample reads (total, mean, vk and its bucket's
  -- count), as numbers, absent ones nil: what tonumber makes of each, with
  -- one strtod each rather than two (see small_number). A text that is no
  -- number raises: the caller then reads them with tonumber (making it nil).
  local function stored_numbers(s)
    local a, b, c, d = s[1], s[2], s[3], s[4]
    if a then a = a + 0 else a = nil end
    if b then b = b + 0 else b = nil end
    if c then c = c + 0 else c = nil end
    if d then d = d + 0 else d = nil end
    return a, b, c, d
  end

  function H.samples_write(batch)
    if batch.n == 0 then return end
    if batch.n == 1 then
      local val = batch[1]
      local bucket = H.sample_bucket(val)
      local s = redis.call('hmget', batch.key, 'total', 'mean', 'vk', bucket)
      local ok, total, mean, vk, count = pcall(stored_numbers, s)
      if not ok then total, mean, vk, count = tonumber(s[1]), tonumber(s[2]), tonumber(s[3]), tonumber(s[4]) end
      total, mean, vk = welford(total, mean, vk, val)
      redis.call('hset', batch.key, 'total', H.int_text(total), 'mean', mean, 'vk', vk,
        bucket, H.int_text((count or 0) + 1))
      return
    end
    local fields, buckets, counts = {'total', 'mean', 'vk'}, {}, {}
    for i = 1, batch.n do
      local bucket = H.sample_bucket(batch[i])
      if counts[bucket] == nil then
        counts[bucket] = 0
        buckets[#buckets + 1] = bucket
        fields[#fields + 1] = bucket
      end
      counts[bucket] = counts[bucket] + 1
    end
    local s = redis.call('hmget', batch.key, unpack(fields))
    local total, mean, vk = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
    for i = 1, batch.n do
      total, mean, vk = welford(total, mean, vk, batch[i])
    end
    local writes = {'total', H.int_text(total), 'mean', mean, 'vk', vk}
    for i = 1, #buckets do
      local bucket = buckets[i]
      writes[#writes + 1] = bucket
      writes[#writes + 1] = H.int_text((tonumber(s[3 + i]) or 0) + counts[bucket])
    end
    redis.call('hset', batch.key, unpack(writes))
  end

  function H.samples_for(kind, queue, now)
    local key = H.stats_key(kind, day_text(now), queue)
    if not deferred_samples then return { key = key, n = 0 } end
    local batch = deferred_samples[key]
    if batch == nil then
      batch = { key = key, n = 0 }
      deferred_samples[key] = batch
      deferred_samples[#deferred_samples + 1] = batch
    end
    return batch
  end

  function H.samples_add(batch, val)
    batch.n = batch.n + 1
    batch[batch.n] = val
  end

  function H.samples_done(batch)
    if not deferred_samples then H.samples_write(batch) end
  end

  -- One sample on its own.
  function H.record_sample(kind, queue, now, val)
    local batch = H.samples_for(kind, queue, now)
    H.samples_add(batch, val)
    H.samples_done(batch)
  end

  -- Counter fields of ql:s:stats:<day>:<queue>.
  function H.stats_incr(queue, t, field, by)
    redis.call('hincrby', H.stats_key('stats', day_text(t), queue), field, H.int_text(by))
  end
end

------------------------------------------------------------------------------
-- Tag index
------------------------------------------------------------------------------

local function load_tag_index()
  function H.tag_index_add(jid, tag, now)
    redis.call('zadd', H.tag_key(tag), H.score_text(now), jid)
    redis.call('zincrby', H.key('tags'), '1', tag)
  end

  function H.tag_index_remove(jid, tag)
    redis.call('zrem', H.tag_key(tag), jid)
    redis.call('zincrby', H.key('tags'), '-1', tag)
  end

  -- A job's or template's tag list, less the tags in the set `removed`
  -- (nil: none), stored as the `tags` field of `key`; returns the text.
  function H.store_tags(key, tags, removed)
    if removed then
      local kept = {}
      for _, tag in ipairs(tags) do
        if not removed[tag] then kept[#kept + 1] = tag end
      end
      tags = kept
    end
    local text = encode(tags)
    redis.call('hset', key, 'tags', text)
    return text
  end
end
