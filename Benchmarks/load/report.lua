-- wrk script for the nginx reference: wrk's own static request (no request() or response()
-- here, so wrk runs exactly as it does without a script), and the same one-line report as
-- verify.lua, appended to LOAD_RESULT.

function done(summary, latency, requests)
  local e = summary.errors
  local line = string.format(
    "requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      .. "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout)
  io.write("load: ", line, "\n")
  local result = os.getenv("LOAD_RESULT")
  if result then
    local file = assert(io.open(result, "a"))
    file:write(line, "\n")
    file:close()
  end
end
