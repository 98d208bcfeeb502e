-- wrk script for the nginx reference: wrk's own static request (no request() or response()
-- here, so wrk runs exactly as it does without a script), and the one-line report, appended to
-- LOAD_RESULT. verify.lua loads this file for report_line() and defines its own done().

-- Writes the run's line: the common fields, then `middle` (a script's own counters), the error
-- counts, then `tail`; both may be nil.
function report_line(summary, latency, middle, tail)
  local e = summary.errors
  local line = string.format(
    "requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f ",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000)
    .. (middle and middle .. " " or "")
    .. string.format("errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d",
      e.connect, e.read, e.write, e.status, e.timeout)
    .. (tail and " " .. tail or "")
  io.write("load: ", line, "\n")
  local result = os.getenv("LOAD_RESULT")
  if result then
    local file = assert(io.open(result, "a"))
    file:write(line, "\n")
    file:close()
  end
end

function done(summary, latency, requests)
  report_line(summary, latency)
end
