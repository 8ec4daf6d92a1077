-- cron.lua: the cron matcher. Given a schedule's fields (as stored by
-- src/cron/encode.ts), a zone's offset table (src/cron/zone.ts) and an
-- instant, cron_next returns the next run strictly after it, in whole UTC
-- seconds, or nil when none comes within CRON_SEARCH_YEARS years.
--
-- It is the Lua twin of src/cron/next.ts: same steps, same names, and
-- test/cron.lua.test.ts checks that the two agree. Rules, for local wall
-- times that match the fields:
-- * a wall time that happens once runs then;
-- * one that happens twice (clocks fall back) runs at its first happening;
-- * one that never happens (clocks spring forward) runs when the gap ends,
--   so several skipped times collapse into one run at the change;
-- * before the table's first entry its first offset holds, after the last
--   entry the last offset holds.
-- Pops call it, so it never scans minute by minute: it jumps field by field
-- (month, day, hour, minute, second) over wall times and then turns the
-- match into an instant with two binary searches over the table.
--
-- It also reads and checks what `recur` stores for a cron template (the
-- fields, the offset table) and applies a backlog to uneven occurrences.
-- Everything is one helper group, loaded only by calls that meet a cron
-- template: an interval-only deployment never makes these closures.

local function load_cron()
  -- A valid expression's longest wait is about 40 years (February 29th on one
  -- given weekday, around 2100); the parser refuses expressions that never run.
  local CRON_SEARCH_YEARS = 50

  -- A table covers years ahead (src/cron/zone.ts builds ten); zones change
  -- at most a few times a year, so a longer list is not a zone table.
  local CRON_MAX_TRANSITIONS = 2000

  -- Stored fields: `<or|and> <60 seconds> <60 minutes> <24 hours> <31 days of
  -- month> <12 months> <7 days of week>`, each a string of 0/1, one character
  -- per value from the field's first value. Returns a table, or nil when the
  -- text is not in that form.
  function H.cron_decode_fields(text)
    local rule, second, minute, hour, dom, month, dow = string.match(text or '',
      '^(%a+) ([01]+) ([01]+) ([01]+) ([01]+) ([01]+) ([01]+)$')
    if rule ~= 'or' and rule ~= 'and' then return nil end
    if #second ~= 60 or #minute ~= 60 or #hour ~= 24 or #dom ~= 31 or #month ~= 12 or #dow ~= 7 then
      return nil
    end
    return { either = rule == 'or', second = second, minute = minute, hour = hour,
      dom = dom, month = month, dow = dow }
  end

  -- Whether `value` is allowed by a field whose values start at `first`.
  local function cron_allowed(bits, first, value)
    return string.byte(bits, value - first + 1) == 49
  end

  -- The smallest allowed value >= from (and <= last), or -1.
  local function cron_next_allowed(bits, first, from, last)
    if from > last then return -1 end
    local at = string.find(bits, '1', from - first + 1, true)
    if at == nil then return -1 end
    local value = at - 1 + first
    if value > last then return -1 end
    return value
  end

  local function cron_is_leap(year)
    return (year % 4 == 0 and year % 100 ~= 0) or year % 400 == 0
  end

  local function cron_days_in_month(year, month)
    if month == 2 then
      if cron_is_leap(year) then return 29 end
      return 28
    end
    if month == 4 or month == 6 or month == 9 or month == 11 then return 30 end
    return 31
  end

  -- Days since 1970-01-01 of a date (Howard Hinnant's days_from_civil).
  local function cron_days_from_civil(year, month, day)
    local y = year
    if month <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local year_of_era = y - era * 400
    local shifted = month + 9
    if month > 2 then shifted = month - 3 end
    local day_of_year = math.floor((153 * shifted + 2) / 5) + day - 1
    local day_of_era = year_of_era * 365 + math.floor(year_of_era / 4) - math.floor(year_of_era / 100) + day_of_year
    return era * 146097 + day_of_era - 719468
  end

  -- The date of a day count since 1970-01-01.
  local function cron_civil_from_days(days)
    local z = days + 719468
    local era = math.floor(z / 146097)
    local day_of_era = z - era * 146097
    local year_of_era = math.floor((day_of_era - math.floor(day_of_era / 1460) + math.floor(day_of_era / 36524)
      - math.floor(day_of_era / 146096)) / 365)
    local day_of_year = day_of_era - (365 * year_of_era + math.floor(year_of_era / 4) - math.floor(year_of_era / 100))
    local mp = math.floor((5 * day_of_year + 2) / 153)
    local day = day_of_year - math.floor((153 * mp + 2) / 5) + 1
    local month = mp - 9
    if mp < 10 then month = mp + 3 end
    local year = year_of_era + era * 400
    if month <= 2 then year = year + 1 end
    return year, month, day
  end

  -- The first wall time (local clock reading written as UTC seconds) at or
  -- after `wall` that the fields allow, or nil.
  local function cron_next_wall_time(f, wall)
    local days = math.floor(wall / 86400)
    local rest = wall - days * 86400
    local year, month, day = cron_civil_from_days(days)
    local hour = math.floor(rest / 3600)
    local minute = math.floor((rest % 3600) / 60)
    local second = rest % 60
    local last_year = year + CRON_SEARCH_YEARS
    while true do
      -- Carry a field that ran past its end into the next one up.
      if second > 59 then second = 0; minute = minute + 1 end
      if minute > 59 then minute = 0; hour = hour + 1 end
      if hour > 23 then hour = 0; day = day + 1 end
      if day > cron_days_in_month(year, month) then day = 1; month = month + 1 end
      if month > 12 then month = 1; year = year + 1 end
      if year > last_year then return nil end

      if not cron_allowed(f.month, 1, month) then
        local next = cron_next_allowed(f.month, 1, month, 12)
        if next < 0 then month = 13 else month = next end
        day = 1; hour = 0; minute = 0; second = 0
      else
        local dom_ok = cron_allowed(f.dom, 1, day)
        local weekday = (cron_days_from_civil(year, month, day) + 4) % 7
        local dow_ok = cron_allowed(f.dow, 0, weekday)
        local day_ok
        if f.either then day_ok = dom_ok or dow_ok else day_ok = dom_ok and dow_ok end
        if not day_ok then
          -- Under `and` a day of month not in the set can be jumped over;
          -- under `or` any day may still match by its weekday.
          if not f.either and not dom_ok then
            local next = cron_next_allowed(f.dom, 1, day + 1, 31)
            if next < 0 then day = 32 else day = next end
          else
            day = day + 1
          end
          hour = 0; minute = 0; second = 0
        elseif not cron_allowed(f.hour, 0, hour) then
          local next = cron_next_allowed(f.hour, 0, hour, 23)
          if next < 0 then hour = 24 else hour = next end
          minute = 0; second = 0
        elseif not cron_allowed(f.minute, 0, minute) then
          local next = cron_next_allowed(f.minute, 0, minute, 59)
          if next < 0 then minute = 60 else minute = next end
          second = 0
        elseif not cron_allowed(f.second, 0, second) then
          local next = cron_next_allowed(f.second, 0, second, 59)
          if next < 0 then second = 60 else second = next end
        else
          return cron_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
        end
      end
    end
  end

  -- Index of the last segment that starts at or before `value`: by UTC start,
  -- or with `wall` by the local time it starts at (1 when none does).
  -- Transitions are {utc_start, offset} pairs, ascending.
  local function cron_segment_index(transitions, value, wall)
    local low, high = 1, #transitions
    while low < high do
      local middle = math.ceil((low + high) / 2)
      local start = transitions[middle][1]
      if wall then start = start + transitions[middle][2] end
      if start <= value then low = middle else high = middle - 1 end
    end
    return low
  end

  -- The instant a wall time runs at: its first happening, or for a wall time
  -- in a spring-forward gap the end of the gap.
  local function cron_instant_of_wall_time(transitions, wall)
    local k = cron_segment_index(transitions, wall, true)
    local start, offset = transitions[k][1], transitions[k][2]
    -- Clocks fell back at `start` and the previous segment also shows this
    -- wall time: that earlier happening is the one that runs.
    if k > 1 then
      local previous_offset = transitions[k - 1][2]
      if wall < start + previous_offset then return wall - previous_offset end
    end
    -- Past this segment's local end but before the next one's local start:
    -- skipped by a spring forward, so it runs when the gap ends.
    local following = transitions[k + 1]
    if following ~= nil and wall >= following[1] + offset then return following[1] end
    return wall - offset
  end

  -- The first wall time whose run is at or after the instant `at`.
  local function cron_first_wall_time_from(transitions, at)
    local i = cron_segment_index(transitions, at, false)
    local start, offset = transitions[i][1], transitions[i][2]
    local wall = at + offset
    if i > 1 then
      local previous_offset = transitions[i - 1][2]
      if previous_offset > offset and wall < start + previous_offset then wall = start + previous_offset end
      if previous_offset < offset and at == start then wall = start + previous_offset end
    end
    return wall
  end

  -- The first run strictly after the instant `after` (UTC seconds, may be
  -- fractional), or nil. `fields` comes from cron_decode_fields, `transitions`
  -- is the decoded offset table (at least one entry).
  function H.cron_next(fields, transitions, after)
    local at = math.floor(after) + 1
    local wall = cron_next_wall_time(fields, cron_first_wall_time_from(transitions, at))
    if wall == nil then return nil end
    return cron_instant_of_wall_time(transitions, wall)
  end

  -- A stored offset table (`[[utc_start, offset], ...]`, ascending starts,
  -- whole seconds, offsets within a day) decoded, or nil when the text is
  -- not one. Undecodable JSON is nil too: a template must not break pops.
  function H.cron_decode_transitions(text)
    if type(text) ~= 'string' then return nil end
    local ok, value = pcall(cjson.decode, text)
    if not ok or type(value) ~= 'table' or #value == 0 or #value > CRON_MAX_TRANSITIONS then return nil end
    local previous = nil
    for i = 1, #value do
      local entry = value[i]
      if type(entry) ~= 'table' or #entry ~= 2 then return nil end
      local start, offset = entry[1], entry[2]
      if type(start) ~= 'number' or type(offset) ~= 'number' then return nil end
      if start % 1 ~= 0 or offset % 1 ~= 0 or start - start ~= 0 or math.abs(offset) > 86400 then return nil end
      if previous ~= nil and start <= previous then return nil end
      previous = start
    end
    return value
  end

  -- The schedule of a cron template from its stored texts, or nil when
  -- either is damaged: { fields = ..., transitions = ... }.
  function H.cron_schedule(fields_text, transitions_text)
    local fields = H.cron_decode_fields(fields_text)
    if fields == nil then return nil end
    local transitions = H.cron_decode_transitions(transitions_text)
    if transitions == nil then return nil end
    return { fields = fields, transitions = transitions }
  end

  -- Backlog for a cron template: occurrences are uneven, so a backlog of n
  -- counts occurrences, not intervals: when more than n are due (at or
  -- before `now`, from `score` on), the oldest are skipped and the n most
  -- recent remain. Returns the first occurrence to spawn (`score` when
  -- nothing is skipped). Windows back from `now` grow until they hold n
  -- occurrences, so a dense schedule long overdue (every second, paused a
  -- month) is not walked from `score` one occurrence at a time.
  local CRON_BACKLOG_WINDOWS = { 60, 3600, 86400, 2764800, 31622400 }
  function H.cron_skip_backlog(cron, score, now, backlog)
    local fields, transitions = cron.fields, cron.transitions
    for w = 1, #CRON_BACKLOG_WINDOWS + 1 do
      local from = now - (CRON_BACKLOG_WINDOWS[w] or math.huge)
      local whole = from < score
      if whole then from = score - 1 end
      -- The last `backlog` occurrences in (from, now], as a ring.
      local ring, count = {}, 0
      local at = H.cron_next(fields, transitions, from)
      while at ~= nil and at <= now do
        count = count + 1
        ring[(count - 1) % backlog + 1] = at
        at = H.cron_next(fields, transitions, at)
      end
      if count > backlog then return ring[count % backlog + 1] end
      if whole or count == backlog then
        if whole then return score end
        return ring[1]
      end
    end
    return score
  end
end
