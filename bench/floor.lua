-- The floor scenario (bench/floor.py): a step's page, then its post, over and over, each post with the page's CSRF
-- token; pages must be 200 and posts must lead back to the page. The state is per thread: run.py gives each thread
-- one connection (-t = -c), so responses come back in the order of their requests. Each thread is a person with a
-- draft of their own (the draft cookie opens one of bench.floor's TOKENS), as in the patient flow.
dofile("bench/report.lua")
local shared_setup = setup
local count = 0

function setup(thread)
  count = count + 1
  thread:set("draft", "bench-floor-draft-" .. count)
  shared_setup(thread)
end

local post, csrf_token, csrf_cookie = false, nil, nil
wrong = 0

function request()
  local headers = {["Referer"] = "http://127.0.0.1/", ["Cookie"] = "draft=" .. draft}
  if csrf_cookie then headers["Cookie"] = headers["Cookie"] .. "; csrftoken=" .. csrf_cookie end
  if post then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", "/bench/floor/", headers, "csrfmiddlewaretoken=" .. csrf_token .. "&action=next")
  end
  return wrk.format("GET", "/bench/floor/", headers)
end

function response(status, headers, body)
  if post and (status ~= 302 or (headers["Location"] or ""):sub(-13) ~= "/bench/floor/") then wrong = wrong + 1 end
  if not post and status ~= 200 then wrong = wrong + 1 end
  csrf_cookie = string.match(headers["Set-Cookie"] or "", "csrftoken=([^;]+)") or csrf_cookie
  csrf_token = string.match(body, 'name="csrfmiddlewaretoken" value="([^"]+)"') or csrf_token
  post = not post and csrf_token ~= nil
end
