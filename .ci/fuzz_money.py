"""After a schemathesis run of .ci/fuzz-api: show what reached the money paths
and fail if nothing did.

usage: fuzz_money.py HAR BASE_URL PROVIDER_KEY

From the run's HAR report: the 2xx answers per money operation (the requests
the fuzzer itself sent). Then through the API, with the provider's key (no
run can revoke it: a key cannot revoke itself and a reseller's cannot touch
the provider's): the services and the ledger lines priced by a rule that are
in the store. The seed before the run orders nothing, so every service and
priced line is the fuzzer's. A run that saw nothing but 404s and 422s on
these paths fails here.
"""

import collections
import json
import re
import sys
import urllib.request

MONEY = [
    ("POST", "/v1/services"),
    ("POST", "/v1/services/{id}/renew"),
    ("POST", "/v1/services/{id}/change-tariff"),
    ("POST", "/v1/services/{id}/addons"),
    ("POST", "/v1/services/{id}/suspend"),
    ("POST", "/v1/services/{id}/resume"),
    ("DELETE", "/v1/services/{id}"),
    ("POST", "/v1/ledger/adjustments"),
    ("GET", "/v1/ledger"),
    ("GET", "/v1/ledger/balances"),
]
# What every run must have done at least once, as either role: all of them.
# In the runs this was tuned on (seed 20) the rarest, a tariff change and an
# addon, succeeded 2 to 4 times per run.
REQUIRED = MONEY


def operation(method, url):
    path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
    return method, re.sub(r"^/v1/services/\d+", "/v1/services/{id}", path)


def main():
    har_path, base, key = sys.argv[1:4]
    with open(har_path) as f:
        entries = json.load(f)["log"]["entries"]
    ok = collections.Counter()
    sent = collections.Counter()
    priced_read = 0
    for e in entries:
        op = operation(e["request"]["method"], e["request"]["url"])
        sent[op] += 1
        if 200 <= e["response"]["status"] < 300:
            ok[op] += 1
            if op == ("GET", "/v1/ledger"):
                text = e["response"].get("content", {}).get("text") or "[]"
                body = json.loads(text)
                priced_read += sum(1 for line in body if line.get("receipt_id") is not None)
    for op in MONEY:
        print(f"fuzz-api:   {op[0]:6} {op[1]:34} {ok[op]:4} of {sent[op]:4} answered 2xx")
    print(f"fuzz-api:   priced ledger lines the fuzzer read back: {priced_read}")

    def get(path):
        req = urllib.request.Request(base + path, headers={"authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    services = get("/v1/services")
    priced = [line for line in get("/v1/ledger?limit=1000") if line.get("receipt_id") is not None]
    print(f"fuzz-api:   in the store: {len(services)} services, {len(priced)} priced ledger lines")

    missing = [f"{m} {p}" for m, p in REQUIRED if ok[(m, p)] == 0]
    if missing or not services or not priced or not priced_read:
        print(
            "fuzz-api: the run did not reach the money paths"
            + (f" (no 2xx for {', '.join(missing)})" if missing else "")
            + (" (no service in the store)" if not services else "")
            + (" (no priced ledger line in the store)" if not priced else "")
            + (" (no priced line read back by the fuzzer)" if not priced_read else ""),
            file=sys.stderr,
        )
        sys.exit(1)


main()
