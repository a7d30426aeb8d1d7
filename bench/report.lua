-- Shared by every scenario: after the run, one JSON line with throughput and latency percentiles (ms). A scenario
-- that checks its responses keeps per-thread counts of `wrong` responses (counted as errors) and `completed` runs.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
    + summary.errors.timeout
  local completed = 0
  for _, thread in ipairs(threads) do
    errors = errors + (thread:get("wrong") or 0)
    completed = completed + (thread:get("completed") or 0)
  end
  io.write(string.format(
    'BENCH {"requests": %d, "rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "errors": %d, ' ..
    '"completed": %d}\n',
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors, completed))
end
