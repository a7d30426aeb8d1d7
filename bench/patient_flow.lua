-- The whole patient questionnaire, landing page to result, as one person after another (one connection per
-- thread keeps each thread's cookies and step in order). Every request of the flow counts.
dofile("bench/report.lua")

local steps = {
  {"GET", "/"},
  {"POST", "/check/start/", ""},
  {"GET", "/check/about-you/"}, {"POST", "/check/about-you/", "age=34&respondent=self&action=next"},
  {"GET", "/check/diagnosis/"},
  {"POST", "/check/diagnosis/", "diagnosis_confirmed=yes&ms_type=rrms&diagnosis_year=2021&diagnosis_month=3&action=next"},
  {"GET", "/check/edss/"}, {"POST", "/check/edss/", "edss=3.5&action=next"},
  {"GET", "/check/relapses/"},
  {"POST", "/check/relapses/", "relapses_12m=2&relapses_36m=3&mri_activity_12m=yes&action=next"},
  {"GET", "/check/treatments/"}, {"POST", "/check/treatments/", "dmts=fumarate&dmts=natalizumab&action=next"},
  {"GET", "/check/treatment-response/"},
  {"POST", "/check/treatment-response/", "activity_on_dmt=yes&activity_on_high_efficacy_dmt=yes&action=next"},
  {"GET", "/check/health/"}, {"POST", "/check/health/", "comorbidities=none&prior_hsct=false&pregnancy=no&action=next"},
  {"GET", "/check/region/"}, {"POST", "/check/region/", "region=europe&action=next"},
  {"GET", "/check/review/"},
  {"POST", "/check/result/", ""},
  {"GET", "/result/"},
}
local position, csrf_token, jar = 1, nil, {}
local kept = {"csrftoken", "sessionid", "draft", "result"}  -- the cookies the app sets on this way

function request()
  local step = steps[position]
  local cookies = {}
  for _, name in ipairs(kept) do
    if jar[name] then table.insert(cookies, name .. "=" .. jar[name]) end
  end
  local headers = {["Cookie"] = table.concat(cookies, "; "), ["Referer"] = "http://127.0.0.1/"}
  if step[1] == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local body = "csrfmiddlewaretoken=" .. (csrf_token or "")
    if step[3] ~= "" then body = body .. "&" .. step[3] end
    return wrk.format("POST", step[2], headers, body)
  end
  return wrk.format("GET", step[2], headers)
end

-- A response the flow did not expect (a page that is not 200, a post that does not lead to the next page, a result
-- page without a verdict) counts as an error: a broken flow must not pass for a fast one.
wrong, completed = 0, 0

function response(status, headers, body)
  local step, following = steps[position], steps[position + 1]
  local location = headers["Location"] or ""
  if step[1] == "GET" and status ~= 200 then wrong = wrong + 1 end
  if step[1] == "POST" and (status ~= 302 or location:sub(-#following[2]) ~= following[2]) then wrong = wrong + 1 end
  local set_cookie = headers["Set-Cookie"] or ""
  for _, name in ipairs(kept) do
    jar[name] = string.match(set_cookie, name .. "=([^;]+)") or jar[name]
  end
  csrf_token = string.match(body, 'name="csrfmiddlewaretoken" value="([^"]+)"') or csrf_token
  position = position + 1
  if position > #steps then  -- the next person, with no cookies
    if string.find(body, 'data-verdict="', 1, true) then completed = completed + 1 else wrong = wrong + 1 end
    position, csrf_token, jar = 1, nil, {}
  end
end
