"""The scenarios of the fault suite, each a function of the fleet and a scratch directory that
returns what it observed or raises Failed. See faults/run."""
import hashlib
import os
import pwd
import shutil
import subprocess
import time

from harness import COHORT, Failed, Run, scenario, tasks_once

N = 2000  # tasks of a map under faults
HEARTBEAT = 5  # --heartbeat-timeout of the maps that must notice a dead host
LOST_BOUND = 3 * HEARTBEAT + 20  # generous: the bound is Cohort's own clock, loaded or not


def echo(value):
    return value + "\n"


def start_map(fleet, inputs, sleep="0.01", extra=(), heartbeat=HEARTBEAT):
    return Run(["map", *fleet.cohort_args(), "--json", "--heartbeat-timeout", str(heartbeat), *extra,
                f"sleep {sleep}; echo {{}}", ":::", *inputs])


def map_with_fault(fleet, fault, host="f2", lost=True, sleep="0.01", n=N, heartbeat=HEARTBEAT):
    """A map of n tasks; once `host` has answered 10, `fault()`; then every task once, exit 0,
    and (lost) the host named LOST within the bound."""
    inputs = [str(i) for i in range(1, n + 1)]
    run = start_map(fleet, inputs, sleep=sleep, heartbeat=heartbeat)
    run.wait_for(lambda r: r.records_from(host) >= 10, 180, f"10 results from {host}")
    at = time.monotonic()
    fault()
    code = run.finish()
    tasks_once(run.records(), inputs, echo)
    if code != 0:
        raise Failed(f"exit {code}: {run.stderr_tail()}")
    said = run.first_err(f"{host}: LOST", after=at) or run.first_err(f"{host}: UNREACHABLE", after=at)
    if lost:
        if not said:
            raise Failed(f"{host} never named lost: {run.stderr_tail()}")
        delay = said[0] - at
        if delay > LOST_BOUND:
            raise Failed(f"{host} named lost only after {delay:.1f} s")
        return f"{n} tasks once, exit 0; lost after {delay:.1f} s: {said[1][:80]}"
    after = sum(1 for t, line in run.out if t > at and f'"host": "{host}"' in line)
    return f"{n} tasks once, exit 0; {host} ran {after} tasks under the fault" + (f"; {said[1][:60]}" if said else "")


@scenario("map-latency-loss", "200 ms RTT + 5% loss on f2: all tasks once, f2 keeps working", quick=True)
def map_latency_loss(fleet, _):
    def fault():
        fleet.fault("f2", "delay", 100)
        fleet.fault("f2", "loss", 5)
    return map_with_fault(fleet, fault, lost=False)


@scenario("map-blackhole", "f2 black-holed mid-map: lost within the bound, tasks once elsewhere", quick=True)
def map_blackhole(fleet, _):
    return map_with_fault(fleet, lambda: fleet.fault("f2", "blackhole"))


@scenario("map-tcp-reset", "f2's packets rejected with TCP RST: lost, tasks once elsewhere", quick=True)
def map_reset(fleet, _):
    return map_with_fault(fleet, lambda: fleet.fault("f2", "reject"))


@scenario("map-proxy-reset", "f2's connections reset (RST to the client): lost, tasks once")
def map_proxy_reset(fleet, _):
    return map_with_fault(fleet, lambda: fleet.fault("f2", "reset"))


@scenario("map-link-flap", "f2 down 5 s, up, three times: no task lost, none twice")
def map_flap(fleet, _):
    def fault():
        for _ in range(3):
            fleet.fault("f2", "blackhole")
            time.sleep(5)  # the fault's own length, not a wait for a condition
            fleet.fault("f2", "heal")
            time.sleep(2)
    return map_with_fault(fleet, fault, lost=False, sleep="0.1", heartbeat=30)


@scenario("map-flipped-byte", "a byte flipped in f2's encrypted stream: MAC error, lost, tasks once", quick=True)
def map_flip(fleet, _):
    return map_with_fault(fleet, lambda: fleet.fault("f2", "flip", 100))


@scenario("map-every-host-lost", "every host lost: exit 2, clear error; --journal resumes, nothing re-run", quick=True)
def every_host_lost(fleet, scratch):
    os.makedirs(scratch, exist_ok=True)
    journal = os.path.join(scratch, "journal")
    inputs = [str(i) for i in range(1, N + 1)]
    run = start_map(fleet, inputs, sleep="0.02", extra=["--journal", journal])
    run.wait_for(lambda r: len(r.records()) >= 200, 180, "200 results")
    for h in fleet.names:
        fleet.fault(h, "blackhole")
    code = run.finish()
    first = [r for r in run.records() if r["status"] == "ok"]
    if code != 2:
        raise Failed(f"exit {code}, not 2: {run.stderr_tail()}")
    for h in fleet.names:
        fleet.fault(h, "heal")
    again = start_map(fleet, inputs, sleep="0.02", extra=["--journal", journal])
    code2 = again.finish()
    if code2 != 0:
        raise Failed(f"resume exit {code2}: {again.stderr_tail()}")
    done = {tuple(r["input"]) for r in first}
    rerun = [r for r in again.records() if tuple(r["input"]) in done]
    if rerun:
        raise Failed(f"{len(rerun)} finished tasks ran again on resume")
    tasks_once(first + again.records(), inputs, echo)
    return f"exit 2 ({run.stderr_tail(1)[:60]}); resumed {len(again.records())} of {N}, none re-run"


def kill_coordinator(fleet, scratch, number):
    os.makedirs(scratch, exist_ok=True)
    journal = os.path.join(scratch, "journal")
    inputs = [str(i) for i in range(1, 401)]
    run = start_map(fleet, inputs, sleep="0.3", extra=["--journal", journal])
    run.wait_for(lambda r: len(r.records()) >= 20, 180, "20 results")
    at = time.monotonic()
    run.process.send_signal(number)
    run.finish(120)
    first = [r for r in run.records() if r["status"] == "ok"]
    deadline = at + LOST_BOUND
    while any(fleet.stray(h) for h in fleet.names):
        if time.monotonic() > deadline:
            raise Failed(f"still running after {LOST_BOUND} s: {[p for h in fleet.names for p in fleet.stray(h)][:3]}")
        time.sleep(0.2)
    gone = time.monotonic() - at
    again = start_map(fleet, inputs, sleep="0.3", extra=["--journal", journal])
    if again.finish() != 0:
        raise Failed(f"resume failed: {again.stderr_tail()}")
    done = {tuple(r["input"]) for r in first}
    if any(tuple(r["input"]) in done for r in again.records()):
        raise Failed("a finished task ran again on resume")
    tasks_once(first + again.records(), inputs, echo)
    return f"remote workers gone after {gone:.1f} s; resume ran the other {len(again.records())}, each once"


@scenario("coordinator-sigkill", "SIGKILL mid-map: remote workers gone, resume finishes exactly once", quick=True)
def coordinator_sigkill(fleet, scratch):
    return kill_coordinator(fleet, scratch, 9)


@scenario("coordinator-sigterm", "SIGTERM mid-map: remote workers gone, resume finishes exactly once")
def coordinator_sigterm(fleet, scratch):
    return kill_coordinator(fleet, scratch, 15)


# -- copy


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def copy_with_fault(fleet, scratch, fault, host="f2", lost=True, size=16 << 20, heartbeat=HEARTBEAT):
    dest = os.path.join(fleet.disk, "copied-" + os.path.basename(scratch))
    try:
        return copy_checked(fleet, scratch, fault, host, lost, size, dest, heartbeat)
    finally:  # each host's disk holds a few copies, not every scenario's
        for h in fleet.names:
            fleet.enter(h, f"rm -f '{dest}'")


def copy_checked(fleet, scratch, fault, host, lost, size, dest, heartbeat):
    os.makedirs(scratch, exist_ok=True)
    source = os.path.join(scratch, "blob")
    with open(source, "wb") as f:
        f.write(os.urandom(size))
    start = int(fleet.fault_reply(host, "bytes"))
    run = Run(["copy", *fleet.cohort_args(), "--heartbeat-timeout", str(heartbeat), "all", source, dest])
    deadline = time.monotonic() + 120
    while int(fleet.fault_reply(host, "bytes")) - start < size // 4:
        if run.process.poll() is not None or time.monotonic() > deadline:
            raise Failed(f"the copy did not get a quarter through to {host}: {run.stderr_tail()}")
        time.sleep(0.05)
    fault()
    code = run.finish()
    want = sha(source)
    for h in fleet.names:
        if h == host and lost:
            continue
        if fleet.sha(h, dest) != want:
            raise Failed(f"{h}: the copy is missing or differs (exit {code}): {run.stderr_tail()}")
    if not lost:
        if code != 0:
            raise Failed(f"exit {code}: {run.stderr_tail()}")
        return f"{size >> 20} MiB byte-exact on all {len(fleet.names)} hosts"
    fleet.heal()
    gone_by = time.monotonic() + LOST_BOUND  # its worker, cut off, ends on its own silence bound
    while fleet.stray(host) and time.monotonic() < gone_by:
        time.sleep(0.2)
    left = [n for n in fleet.listing(host, fleet.disk) if os.path.basename(dest) in n]
    if left:
        raise Failed(f"{host} kept {left} (exit {code})")
    if code == 0 or host not in run.stderr_text():
        raise Failed(f"exit {code}, {host} not named: {run.stderr_tail()}")
    return f"exit {code}, {host} named, no partial file there, the others byte-exact"


@scenario("copy-latency-loss", "copy 16 MiB with f2 at 200 ms RTT + 5% loss: byte-exact everywhere", quick=True)
def copy_latency_loss(fleet, scratch):
    fleet.fault("f2", "delay", 100)
    fleet.fault("f2", "loss", 5)
    # Correctness under loss, not loss detection: a bound well past TCP's backoff after a few
    # retransmissions lost in a row (5% loss makes that rare, not impossible, in 16 MiB).
    return copy_with_fault(fleet, scratch, lambda: None, lost=False, heartbeat=30)


@scenario("copy-blackhole", "f2 black-holed mid-copy: named, no partial file, others exact")
def copy_blackhole(fleet, scratch):
    fleet.fault("f2", "delay", 20)
    return copy_with_fault(fleet, scratch, lambda: fleet.fault("f2", "blackhole"))


@scenario("copy-tcp-reset", "f2 reset mid-copy: named, no partial file, others exact", quick=True)
def copy_reset(fleet, scratch):
    fleet.fault("f2", "delay", 20)
    return copy_with_fault(fleet, scratch, lambda: fleet.fault("f2", "reject"))


@scenario("copy-flipped-byte", "a byte flipped mid-copy: f2 fails cleanly, no partial file")
def copy_flip(fleet, scratch):
    fleet.fault("f2", "delay", 20)
    return copy_with_fault(fleet, scratch, lambda: fleet.fault("f2", "flip", 10))


@scenario("copy-link-flap", "f2 down 5 s mid-copy (bound 30 s), up again: byte-exact everywhere, exit 0")
def copy_flap(fleet, scratch):
    fleet.fault("f2", "delay", 20)

    def flap():
        fleet.fault("f2", "blackhole")
        time.sleep(5)  # the fault's own length
        fleet.fault("f2", "heal")
    # An outage shorter than the heartbeat bound is waited out, not declared a loss.
    return copy_with_fault(fleet, scratch, flap, lost=False, heartbeat=30)


# -- remote faults


@scenario("copy-disk-full", "copy 2 MiB onto f2's 1 MiB disk: clear error, no partial file", quick=True)
def copy_disk_full(fleet, scratch):
    os.makedirs(scratch, exist_ok=True)
    source = os.path.join(scratch, "big")
    with open(source, "wb") as f:
        f.write(os.urandom(2 << 20))
    small = os.path.join(fleet.home("f2"), "small")
    run = Run(["copy", *fleet.cohort_args(), "f2", source, os.path.join(small, "big")])
    code = run.finish()
    listing = fleet.listing("f2", small)
    if code == 0 or "No space left" not in run.stderr_text():
        raise Failed(f"exit {code}: {run.stderr_tail()}")
    if listing:
        raise Failed(f"left on f2's disk: {listing}")
    return f"exit {code}: {run.stderr_tail(1)[:70]}; the disk holds nothing"


@scenario("task-output-disk-full", "tasks writing onto a full disk: each reported failed with its error, none lost")
def task_disk_full(fleet, scratch):
    inputs = [str(i) for i in range(1, 41)]
    run = Run(["map", *fleet.cohort_args(), "-l", "f2", "--json",
               "head -c 600000 /dev/zero > $HOME/small/out.{} && echo {} && rm $HOME/small/out.{}", ":::", *inputs])
    code = run.finish()
    records = run.records()
    if len(records) != 40 or len({tuple(r["input"]) for r in records}) != 40:
        raise Failed(f"{len(records)} records for 40 tasks")
    failed = [r for r in records if r["status"] != "ok"]
    if any("No space left" not in r["stderr"] for r in failed):
        raise Failed(f"a failure without its error: {failed[0]}")
    if code != (1 if failed else 0):
        raise Failed(f"exit {code} with {len(failed)} failed")
    return f"40 reported once: {40 - len(failed)} ok, {len(failed)} failed 'No space left on device', exit {code}"


@scenario("tmp-full", "f2's /tmp full: the map still runs, every task once")
def tmp_full(fleet, _):
    fleet.enter("f2", "head -c 8000000 /dev/zero > /tmp/fill 2>/dev/null; true")
    try:
        inputs = [str(i) for i in range(1, 201)]
        run = start_map(fleet, inputs)
        code = run.finish()
        tasks_once(run.records(), inputs, echo)
        used = [r for r in run.records() if r["host"] == "f2"]
        if code != 0 or not used:
            raise Failed(f"exit {code}, f2 ran {len(used)}")
        return f"200 tasks once, f2 ran {len(used)} with /tmp full"
    finally:
        fleet.enter("f2", "rm -f /tmp/fill")


@scenario("cache-not-writable", "f2's worker cache read-only: f2 named with the reason, tasks once elsewhere", quick=True)
def cache_not_writable(fleet, _):
    cache = os.path.join(fleet.home("f2"), ".cache")
    os.makedirs(cache, exist_ok=True)
    fleet.enter("f2", f"mount -t tmpfs -o ro,size=64k tmpfs {cache}")
    try:
        inputs = [str(i) for i in range(1, 201)]
        run = start_map(fleet, inputs)
        code = run.finish()
        tasks_once(run.records(), inputs, echo)
        said = run.first_err("f2")
        if not said or "Read-only" not in said[1]:
            raise Failed(f"f2 not named with the reason: {run.stderr_tail()}")
        return f"exit {code}; {said[1][:90]}"
    finally:
        fleet.enter("f2", f"umount {cache}")


def cached_worker(fleet, host):
    root = os.path.join(fleet.home(host), ".cache/cohort")
    entries = [e for e in os.listdir(root) if len(e) == 64] if os.path.isdir(root) else []
    return [os.path.join(root, e, "cohort-worker") for e in entries]


@scenario("cached-worker-deleted", "f2's cached worker deleted between runs: uploaded again, runs")
def cache_deleted(fleet, _):
    inputs = [str(i) for i in range(1, 101)]
    start_map(fleet, inputs).finish()
    subprocess.run(["rm", "-rf", os.path.join(fleet.home("f2"), ".cache/cohort")], check=True)
    run = Run(["map", *fleet.cohort_args(), "-v", "--json", "echo {}", ":::", *inputs])
    code = run.finish()
    tasks_once(run.records(), inputs, echo)
    if code != 0 or not cached_worker(fleet, "f2"):
        raise Failed(f"exit {code}, cache {cached_worker(fleet, 'f2')}")
    return f"exit 0, f2's worker uploaded again ({os.path.basename(os.path.dirname(cached_worker(fleet, 'f2')[0]))[:12]})"


@scenario("planted-worker", "another binary under f2's cache name: detected by hash, never run", quick=True)
def planted(fleet, scratch):
    inputs = [str(i) for i in range(1, 101)]
    start_map(fleet, inputs).finish()
    workers = cached_worker(fleet, "f2")
    if not workers:
        raise Failed("no cached worker on f2")
    marker = os.path.join(scratch, "planted-ran")
    os.makedirs(scratch, exist_ok=True)
    for w in workers:
        os.unlink(w)
        with open(w, "w") as f:
            f.write(f"#!/bin/sh\ntouch {marker}\n")
        os.chmod(w, 0o700)
    run = start_map(fleet, inputs)
    code = run.finish()
    tasks_once(run.records(), inputs, echo)
    real = sha(os.path.join(os.path.dirname(COHORT), "cohort-worker"))
    if os.path.exists(marker):
        raise Failed("the planted binary ran")
    if code != 0 or any(sha(w) != real for w in cached_worker(fleet, "f2") if "cohort" in w):
        raise Failed(f"exit {code}; cache not restored")
    return "planted file never ran; replaced by the real worker; 100 tasks once"


# -- hostile input and secrets


@scenario("injection-map-inputs", "inputs with ; $( ) ` quotes newlines: printed as given, never run", quick=True)
def injection_inputs(fleet, scratch):
    os.makedirs(scratch, exist_ok=True)
    marker = os.path.join(scratch, "ran")
    hostile = [f"; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", f"'; touch {marker}; '",
               f"\"$(touch {marker})\"", f"a\ntouch {marker}", f"&& touch {marker}", f"| touch {marker}", "\\", "*"]
    run = Run(["map", *fleet.cohort_args(), "--json", "printf '%s\\n' {}", ":::", *hostile])
    code = run.finish()
    tasks_once(run.records(), hostile, echo)
    if code != 0 or os.path.exists(marker):
        raise Failed(f"exit {code}; marker {'made' if os.path.exists(marker) else 'absent'}")
    return f"{len(hostile)} hostile inputs printed byte for byte, nothing ran"


@scenario("injection-ansible-host", "ansible_host=-oProxyCommand=...: refused (host named), exit 4, nothing contacted", quick=True)
def injection_host(fleet, scratch):
    os.makedirs(scratch, exist_ok=True)
    marker = os.path.join(scratch, "ran")
    inventory = os.path.join(scratch, "inventory.ini")
    with open(inventory, "w") as f:
        f.write(f"[evil]\nx ansible_host='-oProxyCommand=touch {marker}'\n")
    logins = sum(open(os.path.join(fleet.dir, h, "sshd.log")).read().count("Accepted") for h in fleet.names)
    run = Run(["run", "-i", inventory, "-F", "none", "all", "--", "true"])
    code = run.finish()
    after = sum(open(os.path.join(fleet.dir, h, "sshd.log")).read().count("Accepted") for h in fleet.names)
    if code != 4 or os.path.exists(marker) or after != logins:
        raise Failed(f"exit {code}: {run.stderr_tail()}")
    return f"exit 4: {run.stderr_tail(1)[:80]}"


def play(fleet, scratch, text, *extra):
    os.makedirs(scratch, exist_ok=True)
    path = os.path.join(scratch, "play.yml")
    with open(path, "w") as f:
        f.write(text)
    return Run(["play", *fleet.cohort_args(), *extra, path])


@scenario("injection-play-vars", "a playbook variable holding $( ) ; `: the command module runs no shell", quick=True)
def injection_play(fleet, scratch):
    marker = os.path.join(scratch, "ran")
    run = play(fleet, scratch, f"""- hosts: f1
  gather_facts: false
  vars:
    v: "$(touch {marker}); `touch {marker}` && touch {marker}"
  tasks:
    - command: echo {{{{ v }}}}
      register: out
    - assert:
        that: out.stdout == v
""")
    code = run.finish()
    if code != 0 or os.path.exists(marker):
        raise Failed(f"exit {code}, marker {os.path.exists(marker)}: {run.stderr_tail()} {run.out[-3:]}")
    return "the value reached echo as one word, nothing ran"


@scenario("secrets-no-log", "a failing no_log task: its secret in no output, on the failure path", quick=True)
def secrets_no_log(fleet, scratch):
    secret = "s3cr3t-" + os.urandom(6).hex()
    run = play(fleet, scratch, f"""- hosts: f1
  gather_facts: false
  tasks:
    - shell: echo {secret}; echo {secret} >&2; exit 3
      no_log: true
""", "-v")
    code = run.finish()
    text = "\n".join(line for _, line in run.out) + run.stderr_text()
    if secret in text:
        raise Failed("the secret was printed")
    # cohort play exits with ansible-playbook's codes: 2 for a failed task.
    if code != 2 or "censored" not in text:
        raise Failed(f"exit {code}, not 2 (a failed task, as ansible-playbook), or no censored failure: {run.out[-3:]}")
    return "exit 2, the failure said (censored) without the secret"


@scenario("secrets-private-key", "-vv on failures (unknown key, dead host): no private key bytes printed")
def secrets_key(fleet, scratch):
    key = open(os.path.join(fleet.dir, "client/id_ed25519")).read()
    body = "".join(key.splitlines()[1:-1])
    empty = os.path.join(scratch, "known_hosts")
    os.makedirs(scratch, exist_ok=True)
    open(empty, "w").close()
    fleet.fault("f3", "blackhole")
    runs = [Run(["run", "-i", fleet.inventory, "-F", "none", "--known-hosts", empty, "-vv", "f1", "--", "true"]),
            Run(["run", *fleet.cohort_args(), "--connect-timeout", "3", "-vv", "f3", "--", "true"])]
    codes = [r.finish() for r in runs]
    text = "".join("\n".join(line for _, line in r.out) + r.stderr_text() for r in runs)
    chunks = [body[i:i + 16] for i in range(0, len(body) - 16, 16)]
    if any(c in text for c in chunks):
        raise Failed("private key bytes printed")
    if codes != [3, 2]:
        raise Failed(f"exits {codes}, not [3, 2]")
    return "exit 3 (unknown key) and 2 (unreachable); no key bytes in either"


def misbehave(fleet, scratch, behaviour, reason):
    os.makedirs(scratch, exist_ok=True)
    real = os.path.join(scratch, "cohort-worker")  # where the hosts see it (not under their own /tmp)
    shutil.copy2(os.path.join(os.path.dirname(COHORT), "cohort-worker"), real)
    script = os.path.join(scratch, "worker.sh")
    # f2 misbehaves until the coordinator closes it, then leaves a mark; the other hosts'
    # workers start after that mark, else a loaded machine may let them finish every task
    # before f2 has done anything wrong, or before it is read.
    mark = os.path.join(scratch, "f2-dropped")
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\nreal={real}\ncase \"$HOME\" in\n"
                f"  */f2/home) {{ {behaviour} ; }} ; touch {mark}; exit 0 ;;\n"
                f"  *) n=0; while [ ! -e {mark} ] && [ $n -lt 3000 ]; do sleep 0.05; n=$((n+1)); done ;;\n"
                f"esac\nexec \"$real\" \"$@\"\n")
    os.chmod(script, 0o755)
    inputs = [str(i) for i in range(1, 201)]
    run = Run(["map", *fleet.cohort_args(), "--json", "echo {}", ":::", *inputs],
              env={**os.environ, "COHORT_WORKER": script})
    code = run.finish()
    tasks_once(run.records(), inputs, echo)
    said = run.first_err("f2: LOST: " + reason)
    if code != 0 or not said:
        raise Failed(f"exit {code}: {run.stderr_tail()}")
    return f"exit 0, 200 once; {said[1][:80]}"


@scenario("worker-garbage", "f2's worker sends garbage: dropped, named, tasks once elsewhere", quick=True)
def worker_garbage(fleet, scratch):
    return misbehave(fleet, scratch, "head -c 4096 /dev/urandom; cat >/dev/null", "corrupt stream")


@scenario("worker-stranger-result", "f2's worker answers a task it was never given: dropped, named")
def worker_stranger(fleet, scratch):
    filter_ = ("import struct,sys\ni,o,d=sys.stdin.buffer,sys.stdout.buffer,0\nwhile True:\n h=i.read(4)\n"
               " if len(h)<4: break\n b=i.read(struct.unpack('>I',h)[0]); o.write(h+b); o.flush()\n"
               " if b[0]==5 and not d:\n  d=1; o.write(h+b[:1]+struct.pack('>Q',10**9)+b[9:]); o.flush()\n")
    path = os.path.join(scratch, "forge.py")
    os.makedirs(scratch, exist_ok=True)
    with open(path, "w") as f:
        f.write(filter_)
    return misbehave(fleet, scratch, f'"$real" "$@" | python3 {path}', "protocol violation")


@scenario("maxstartups-100-hosts", "100 hosts on one sshd taking 3 handshakes: none falsely unreachable", quick=True)
def maxstartups(fleet, scratch):
    from harness import ROOT
    fleet_dir = os.path.join(scratch, "fleet")
    subprocess.run([os.path.join(ROOT, "scripts/testfleet"), "up", "1", "--dir", fleet_dir, "--first", "230",
                    "--max-startups", "3:100:3"], check=True, stdout=subprocess.DEVNULL)
    try:
        line = [l for l in open(os.path.join(fleet_dir, "inventory.ini")) if "ansible_host" in l][0].split(None, 1)[1]
        inventory = os.path.join(scratch, "hundred.ini")
        with open(inventory, "w") as f:  # one sshd behind 100 names, each its own connection
            f.write("[all]\n" + "".join(f"m{i} {line}" for i in range(1, 101)))
            f.write(f"[all:vars]\nansible_user={pwd.getpwuid(os.getuid()).pw_name}\n"
                    f"ansible_ssh_private_key_file={fleet_dir}/client/id_ed25519\n")
        run = Run(["run", "-i", inventory, "-F", "none", "--known-hosts", os.path.join(fleet_dir, "known_hosts"),
                   "all", "--", "true"])
        code = run.finish()
        log = open(os.path.join(fleet_dir, "h1", "sshd.log")).read()
        if code != 0 or "ok 100" not in run.stderr_text():
            raise Failed(f"exit {code}: {run.stderr_tail()}")
        return f"100 of 100 ok, exit 0 ({log.count('drop connection')} connections dropped by sshd, retried)"
    finally:
        subprocess.run([os.path.join(ROOT, "scripts/testfleet"), "down", "--dir", fleet_dir], stdout=subprocess.DEVNULL)


ALL = [v for v in list(globals().values()) if type(v).__name__ == "Scenario"]
