-- GET one path (BENCH_PATH) with an optional session cookie (BENCH_COOKIE); for the queue, detail and baseline.
dofile("bench/report.lua")
local path = os.getenv("BENCH_PATH") or "/"
local cookie = os.getenv("BENCH_COOKIE")
wrong = 0  -- anything but 200 (e.g. a redirect to the login page) is an error

function response(status, headers, body)
  if status ~= 200 then wrong = wrong + 1 end
end

function request()
  local headers = {}
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", path, headers)
end
