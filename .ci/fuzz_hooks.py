"""schemathesis hooks for .ci/fuzz-api (loaded through SCHEMATHESIS_HOOKS).

A valid Idempotency-Key the fuzzer generated is made unique per request.
Hypothesis draws the same few short strings ("0", "00") over and over, and the
daemon rightly answers every reuse of a key with another body 422; left alone,
most mutations of a run end there and never reach the daemon's checks, let
alone the money paths. Malformed keys are kept, so the 400s are still fuzzed.
"""

import itertools
import re

import schemathesis

_VALID = re.compile(r"[!-~]{1,255}")
_counter = itertools.count()


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _VALID.fullmatch(key):
        headers["Idempotency-Key"] = f"{key[:200]}-{next(_counter)}"
