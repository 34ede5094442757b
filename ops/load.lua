-- One operation of Heard's mixed load for wrk (ops/load runs one wrk per operation, all at
-- once, so that each reports its own latency distribution under the whole mix):
--
--   wrk -t1 -c4 -d60s --latency -s ops/load.lua http://127.0.0.1:PORT/graphql -- OPERATION TOKEN
--
-- OPERATION is logFeedback, searchFeedback, youSaidWeDid, referCase, raiseComplaint, cases or
-- complaints; TOKEN an API
-- token (a bearer token) of someone allowed to do it. Errors are answers that are not 2xx and
-- 2xx answers whose GraphQL body has "errors"; wrk's own socket errors are counted too. At the
-- end it prints one line, `RESULT op=… requests=… seconds=… rps=… p50_ms=… p90_ms=… p99_ms=…
-- max_ms=… errors=…`, for ops/load to add up.

local operations = {
   logFeedback = {
      query = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
      variables = function(n)
         return string.format(
            '{"i": {"hub": "arun", "text": "Load %s-%d: the evening clinic in Bognor closed early again and the '
               .. 'waiting list for a first appointment is long", "channel": "FORUM", "saidOn": "2026-11-02", '
               .. '"speaker": "ANONYMOUS", "consent": "COMMISSIONERS", "themes": ["Opening hours"], '
               .. '"about": "Community pharmacies"}}',
            tag,
            n
         )
      end,
   },
   searchFeedback = {
      query = "query($q: String!) { searchFeedback(query: $q, first: 10) { total edges { node { item { id } } } } }",
      variables = function(n)
         local words = { "clinic", "waiting list", "opening hours", "pharmacy", "appointment", "staff" }
         return string.format('{"q": "%s"}', words[n % #words + 1])
      end,
   },
   youSaidWeDid = {
      query = "{ youSaidWeDid { sharedItems closedItems loopClosureRate said { theme count } decisions { id title } } }",
   },
   referCase = {
      query = "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }",
      variables = function(n)
         return string.format(
            '{"i": {"issue": "Load %s-%d: my housing benefit stopped", "kind": "INSTRUCTED", '
               .. '"referralSource": "SELF_REFERRAL", "domain": "HOUSING", "provider": "addaction", "articles": [3]}}',
            tag,
            n
         )
      end,
   },
   raiseComplaint = {
      query = "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }",
      variables = function(n)
         return string.format(
            '{"i": {"provider": "cri", "articles": [2], "complainantKind": "ANONYMOUS", "route": "HUB", '
               .. '"whatHappened": "Load %s-%d: nobody gave me a leaflet", "outcomeWanted": "A leaflet"}}',
            tag,
            n
         )
      end,
   },
   cases = {
      query = "{ cases(first: 20) { nodes { id clientRef state domain referredOn } } }",
   },
   complaints = {
      query = "{ complaints(first: 20) { nodes { id reference stage provider receivedOn } } }",
   },
}

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   op = args[1]
   token = args[2]
   operation = operations[op]
   if operation == nil or token == nil then
      error("usage: -- OPERATION TOKEN (OPERATION: logFeedback, searchFeedback, youSaidWeDid, referCase, raiseComplaint, cases, complaints)")
   end
   tag = string.format("%d-%d", os.time(), id or 0)
   n = 0
   errors = 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. token
   local query = string.format("%q", operation.query):gsub("\\\n", "\\n")
   prefix = '{"query": ' .. query
   if operation.variables == nil then
      fixed = wrk.format(nil, nil, nil, prefix .. "}")
   end
end

function request()
   if fixed ~= nil then
      return fixed
   end
   n = n + 1
   return wrk.format(nil, nil, nil, prefix .. ', "variables": ' .. operation.variables(n) .. "}")
end

function response(status, headers, body)
   if status < 200 or status > 299 or string.find(body, '"errors"', 1, true) then
      errors = errors + 1
   end
end

function done(summary, latency, requests)
   local answered_wrong = 0
   for _, thread in ipairs(threads) do
      answered_wrong = answered_wrong + (thread:get("errors") or 0)
   end
   local e = summary.errors
   local socket = e.connect + e.read + e.write + e.timeout
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "RESULT op=%s requests=%d seconds=%.1f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
      threads[1]:get("op"),
      summary.requests,
      seconds,
      summary.requests / seconds,
      latency:percentile(50) / 1000,
      latency:percentile(90) / 1000,
      latency:percentile(99) / 1000,
      latency.max / 1000,
      answered_wrong + socket
   ))
end
