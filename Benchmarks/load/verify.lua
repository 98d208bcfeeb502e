-- wrk script: POST /v1/users/{id}/verify with a valid, never-used HOTP code on every request.
--
-- Environment (run.sh sets it):
--   LOAD_CODES    the codes file from enroll.py: "user codes…" per line, codes run together
--   LOAD_STATE    one line per user, the index of its next unused code; rewritten in done()
--   LOAD_KEY      the API key (scope verify)
--   LOAD_HOST     the Host header, host:port
--   LOAD_THREADS  wrk's -t, to split the users between the threads
--   LOAD_PACE     requests per second over all threads, paced in delay(); 0 or unset: flat out
--   LOAD_RESULT   where done() appends one "key=value …" line for run.sh
--   LOAD_SCRIPTS  this folder: report.lua there writes that line
--
-- Why codes stay valid: a user's HOTP counter only moves forward, and the server accepts the
-- next code and up to 10 beyond it (TWOFOLD_HOTP_LOOK_AHEAD), so each user's codes must reach
-- the server in order. Each wrk thread owns a disjoint set of users (every LOAD_THREADS-th line)
-- and walks them round-robin, one code each per round. wrk keeps one request in flight per
-- connection, so a user's next request is written a whole round (users per thread − 1 other
-- requests) after its previous one, with at most connections-per-thread of them in flight: the
-- previous one has been answered unless it stalled for a whole round, in which case it would be
-- overtaken and answered "replayed", and counted below (run.sh requires at least 4 users per
-- connection). A code that was handed out but never reached the server (a reconnect, the end of
-- the run) is simply skipped; the look-ahead absorbs that.
--
-- Every answer is classified in response(): allow, deny (by reason), or another status; done()
-- reports the counts, and run.sh fails a run where more than 1% were not allow.

dofile(os.getenv("LOAD_SCRIPTS") .. "/report.lua")  -- report_line(); done() is redefined below

local rate = tonumber(os.getenv("LOAD_PACE") or "0") or 0

-- Main state: number the threads, collect their counts at the end.
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Thread state.
local prefixes, codes, positions, line_numbers = {}, {}, {}, {}
local count, cursor, digits = 0, 1, 6 -- enroll.py enrolls 6-digit factors
local codes_per_user, health = 0, nil
-- Globals, so that done() can read them with thread:get: the counts, and where each of this
-- thread's users stands (its next code) by line of the codes file.
allow, deny, other, issued, exhausted = 0, 0, 0, 0, 0
reasons = {}
user_positions, user_lines = positions, line_numbers

function init(args)
  local thread_count = tonumber(os.getenv("LOAD_THREADS"))
  local key = os.getenv("LOAD_KEY")
  local host = os.getenv("LOAD_HOST")
  local state = {}
  for line in io.lines(os.getenv("LOAD_STATE")) do
    state[#state + 1] = tonumber(line)
  end
  local number = 0
  for line in io.lines(os.getenv("LOAD_CODES")) do
    number = number + 1
    if (number - 1) % thread_count == thread_index then
      local space = line:find(" ", 1, true)
      local user = line:sub(1, space - 1)
      count = count + 1
      codes[count] = line:sub(space + 1)
      positions[count] = state[number]
      line_numbers[count] = number
      prefixes[count] = "POST /v1/users/" .. user .. "/verify HTTP/1.1\r\n"
        .. "Host: " .. host .. "\r\n"
        .. "Authorization: Bearer " .. key .. "\r\n"
        .. "Content-Type: application/json\r\n"
        .. "Content-Length: " .. (#'{"code":""}' + digits) .. "\r\n"
        .. "\r\n"
        .. '{"code":"'
    end
  end
  codes_per_user = count > 0 and #codes[1] / digits or 0
  health = "GET /healthz HTTP/1.1\r\nHost: " .. host .. "\r\n\r\n"
end

function request()
  local index = cursor
  cursor = cursor == count and 1 or cursor + 1
  local position = positions[index]
  if position >= codes_per_user then
    -- Out of codes: stop this thread rather than send a code the server must refuse.
    exhausted = exhausted + 1
    wrk.thread:stop()
    return health
  end
  positions[index] = position + 1
  issued = issued + 1
  local first = position * digits + 1
  return prefixes[index] .. codes[index]:sub(first, first + digits - 1) .. '"}'
end

function response(status, headers, body)
  if status == 200 then
    if body:find('"result":"allow"', 1, true) then
      allow = allow + 1
    else
      deny = deny + 1
      local reason = body:match('"reason":"([%w_]+)"') or "unknown"
      reasons[reason] = (reasons[reason] or 0) + 1
    end
  else
    other = other + 1
    local key = "http_" .. status
    reasons[key] = (reasons[key] or 0) + 1
  end
end

if rate > 0 then
  -- Pacing: each thread hands out send slots 1/(its share of the rate) apart, whichever of its
  -- connections asks next. A slot in the past is used at once (catching up after a stall, as an
  -- open-loop client would), so the rate over the run is the one asked for, as long as the
  -- connections suffice. wrk's latency clock starts when the request is written, after this delay.
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } load_timespec;
    int clock_gettime(int clock, load_timespec *time);
  ]]
  local now_buffer = ffi.new("load_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, now_buffer) -- CLOCK_MONOTONIC
    return tonumber(now_buffer.tv_sec) * 1000 + tonumber(now_buffer.tv_nsec) / 1e6
  end
  local interval, next_slot
  function delay()
    local now = now_ms()
    if not next_slot then
      interval = 1000 * tonumber(os.getenv("LOAD_THREADS")) / rate
      next_slot = now
    end
    local slot = next_slot
    next_slot = next_slot + interval
    return slot > now and math.floor(slot - now) or 0
  end
end

function done(summary, latency, requests)
  local totals = { allow = 0, deny = 0, other = 0, issued = 0, exhausted = 0 }
  local all_reasons = {}
  local state = {}
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    for reason, n in pairs(thread:get("reasons")) do
      all_reasons[reason] = (all_reasons[reason] or 0) + n
    end
  end
  for _, thread in ipairs(threads) do
    local lines, positions_of_thread = thread:get("user_lines"), thread:get("user_positions")
    for index, number in pairs(lines) do
      state[number] = positions_of_thread[index]
    end
  end
  local state_file = assert(io.open(os.getenv("LOAD_STATE"), "w"))
  for number = 1, #state do
    state_file:write(state[number], "\n")
  end
  state_file:close()

  local answered = totals.allow + totals.deny + totals.other
  local reason_text = {}
  for reason, n in pairs(all_reasons) do
    reason_text[#reason_text + 1] = reason .. ":" .. n
  end
  report_line(summary, latency,
    string.format("allow=%d deny=%d other=%d answered=%d issued=%d exhausted=%d",
      totals.allow, totals.deny, totals.other, answered, totals.issued, totals.exhausted),
    "reasons=" .. (#reason_text > 0 and table.concat(reason_text, ",") or "none"))
end
