#!/usr/bin/env python3
# Usage: tools/scripts/erase_timing.py BASE_URL COORDINATOR_EMAIL PASSWORD [N]
#   e.g. against `heard serve --demo`: http://127.0.0.1:8080 coordinator.arun@demo.heard.example "heard demo coordinator.arun" 30
# Times eraseSubject on the demo data set: attribute N items of one hub to a person each, then
# erase each person; prints the median and p90 of the mutation's round trip (it answers only
# once every model and the search index have applied the erasure).
import json, sys, time, urllib.request, http.cookiejar, statistics
base = sys.argv[1]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
csrf = None
def gql(q, v=None):
    req = urllib.request.Request(base + "/graphql", data=json.dumps({"query": q, "variables": v or {}}).encode(),
                                 headers={"content-type": "application/json", **({"X-CSRF-Token": csrf} if csrf else {})})
    return json.load(opener.open(req))
a = gql('mutation($e:String!,$p:String!){ login(email:$e,password:$p){ csrfToken } }', {"e": sys.argv[2], "p": sys.argv[3]})
csrf = a["data"]["login"]["csrfToken"]
items = gql('{ feedbackItems(filter: {hub:"arun"}, first: 60) { edges { node { id } } } }')
ids = [e["node"]["id"] for e in items["data"]["feedbackItems"]["edges"]]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 30
times = []
for item in ids[:n]:
    p = gql('mutation($i:ID!){ attributeFeedback(itemId:$i){ person } }', {"i": item})
    person = p["data"]["attributeFeedback"]["person"]
    t = time.perf_counter()
    r = gql('mutation($p:ID!){ eraseSubject(person:$p){ records } }', {"p": person})
    times.append(time.perf_counter() - t)
    assert r.get("errors") is None, r
times.sort()
print(json.dumps({"erasures": len(times), "median_ms": round(statistics.median(times)*1000, 1),
                  "p90_ms": round(times[int(len(times)*0.9)-1]*1000, 1), "max_ms": round(times[-1]*1000, 1)}))
