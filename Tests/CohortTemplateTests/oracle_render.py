# Renders each case with ansible-core's Templar (the oracle for CohortTemplate) and prints,
# per case, the result in a canonical typed form or the error. Input (stdin): JSON
# {"vars": {...}, "cases": [{"mode": "template"|"condition", "source": "..."}]}.
import datetime
import json
import resource
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template


def canon(v):
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return "i%d" % v
    if isinstance(v, float):
        return "f" + repr(v)
    if isinstance(v, str):
        return "s" + repr(str(v))
    if isinstance(v, dict):
        return "{" + ", ".join(canon(k) + ": " + canon(x) for k, x in v.items()) + "}"
    if isinstance(v, (datetime.datetime, datetime.timedelta)):
        return "dt" + repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(canon(x) for x in v) + "]"
    return "?" + type(v).__name__


# Hostile cases ask Python for gigabytes: a bounded address space makes that a MemoryError
# at once instead of minutes of swapping.
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
request = json.load(sys.stdin)
templar = Templar(loader=DataLoader(), variables=request["vars"])
out = []
for case in request["cases"]:
    try:
        if case["mode"] == "condition":
            value = templar.evaluate_conditional(trust_as_template(case["source"]))
        else:
            value = templar.template(trust_as_template(case["source"]))
        out.append({"ok": True, "value": canon(value)})
    except Exception as e:  # the oracle's error, whatever its class
        out.append({"ok": False, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")})
print(json.dumps(out))
