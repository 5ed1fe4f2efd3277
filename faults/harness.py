"""What the fault scenarios stand on: the fleets, a running cohort watched line by line, the
checks, and the scorecard. Waits are for conditions (a line seen, a process gone), each with a
generous limit so that a loaded machine makes a scenario slower, not red."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COHORT = os.environ.get("COHORT_BIN", os.path.join(ROOT, ".build/debug/cohort"))


def work_directory():
    """The suite's files. Not under /tmp: each fault host has a /tmp of its own, which would
    hide them from it (a checkout under /tmp puts them in /var/tmp, named after the checkout)."""
    if os.environ.get("COHORT_FAULTS_DIR"):
        return os.path.abspath(os.environ["COHORT_FAULTS_DIR"])
    here = os.path.join(ROOT, ".build-faults")
    if not (here + "/").startswith("/tmp/"):
        return here
    return "/var/tmp/cohort-faults-" + hashlib.sha256(ROOT.encode()).hexdigest()[:10]


WORK = work_directory()
HOSTS = 4


class Failed(Exception):
    """A promise broken: what was observed."""


class Scenario:
    def __init__(self, name, expected, body, quick=False):
        self.name, self.expected, self.body, self.quick = name, expected, body, quick


def scenario(name, expected, quick=False):
    def wrap(body):
        return Scenario(name, expected, body, quick)
    return wrap


class Fleet:
    """scripts/faultfleet's hosts f1..fN, and what the scenarios do to them."""

    def __init__(self, directory, count):
        self.dir, self.count = directory, count
        self.names = [f"f{i}" for i in range(1, count + 1)]
        self.inventory = os.path.join(directory, "inventory.ini")
        self.known_hosts = os.path.join(directory, "known_hosts")
        self.script = os.path.join(ROOT, "scripts/faultfleet")

    def up(self):
        subprocess.run([self.script, "up", str(self.count), "--dir", self.dir], check=True, stdout=subprocess.DEVNULL)

    def down(self):
        subprocess.run([self.script, "down", "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def fault(self, host, *what):
        subprocess.run([self.script, "fault", host, *map(str, what), "--dir", self.dir], check=True, stdout=subprocess.DEVNULL)

    def fault_reply(self, host, what):
        """A proxy command's answer after its "ok" (count, bytes)."""
        out = subprocess.run([self.script, "fault", host, what, "--dir", self.dir], check=True, capture_output=True, text=True)
        return out.stdout.split()[-1]

    def heal(self):
        for host in self.names:
            self.fault(host, "heal")
            self.fault(host, "clear")

    def stray(self, host):
        """Processes in the host's namespace besides its sshd and proxy (workers, tasks)."""
        out = subprocess.run([self.script, "pids", host, "--dir", self.dir], capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line.strip()]

    def enter(self, host, command):
        return subprocess.run([self.script, "enter", host, "--dir", self.dir, "--", "sh", "-c", command],
                              capture_output=True, text=True)

    def home(self, host):
        return os.path.join(self.dir, host, "home")

    @property
    def disk(self):
        """One path, a disk of its own on each host (seen through enter, not from here)."""
        return os.path.join(self.dir, "disk")

    def listing(self, host, directory):
        return self.enter(host, f"ls -A '{directory}'").stdout.split()

    def sha(self, host, path):
        """The SHA-256 of a file as the host sees it, or None where it has none."""
        out = self.enter(host, f"sha256sum '{path}'")
        return out.stdout.split()[0] if out.returncode == 0 else None

    def cohort_args(self):
        return ["-i", self.inventory, "-F", "none", "--known-hosts", self.known_hosts]


class Run:
    """A cohort process whose stdout and stderr lines are collected as they come, with times."""

    def __init__(self, args, stdin=None, env=None):
        self.started = time.monotonic()
        self.out, self.err = [], []
        self.cond = threading.Condition()
        self.process = subprocess.Popen([COHORT, *args], stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                        start_new_session=True)
        if stdin is not None:
            threading.Thread(target=self._feed, args=(stdin,), daemon=True).start()
        self.readers = [threading.Thread(target=self._read, args=(self.process.stdout, self.out), daemon=True),
                        threading.Thread(target=self._read, args=(self.process.stderr, self.err), daemon=True)]
        for r in self.readers:
            r.start()

    def _feed(self, data):
        try:
            self.process.stdin.write(data)
            self.process.stdin.close()
        except OSError:
            pass

    def _read(self, stream, into):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                into.append((time.monotonic(), line))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, limit, what):
        """Until predicate(self) holds; Failed after `limit` seconds or if cohort ends first."""
        deadline = time.monotonic() + limit
        with self.cond:
            while not predicate(self):
                if self.process.poll() is not None and not any(r.is_alive() for r in self.readers):
                    if predicate(self):
                        break
                    raise Failed(f"cohort ended (exit {self.process.returncode}) before {what}; stderr: {self.stderr_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failed(f"no {what} within {limit} s; stderr: {self.stderr_tail()}")
                self.cond.wait(min(left, 0.2))
        return time.monotonic()

    def finish(self, limit=600):
        try:
            self.process.wait(limit)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise Failed(f"cohort still running after {limit} s; stderr: {self.stderr_tail()}")
        for r in self.readers:
            r.join()
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for r in self.readers:
            r.join()

    def records(self):
        return [json.loads(line) for _, line in self.out if line.startswith("{")]

    def records_from(self, host):
        return sum(1 for _, line in self.out if f'"host": "{host}"' in line)

    def stderr_text(self):
        return "\n".join(line for _, line in self.err)

    def stderr_tail(self, n=6):
        return " | ".join(line for _, line in self.err[-n:]) or "(none)"

    def first_err(self, needle, after=0.0):
        for t, line in self.err:
            if t >= after and needle in line:
                return t, line
        return None


def tasks_once(records, inputs, command_output):
    """Every input reported exactly once, ok, with exactly the bytes it produced."""
    seen = {}
    for r in records:
        key = tuple(r["input"])
        if key in seen:
            raise Failed(f"input {key} reported twice (hosts {seen[key]['host']} and {r['host']})")
        seen[key] = r
    missing = [i for i in inputs if (i,) not in seen]
    if missing:
        raise Failed(f"{len(missing)} inputs never reported (first {missing[:3]})")
    bad = [r for r in records if r["status"] != "ok" or r["stdout"] != command_output(r["input"][0])]
    if bad:
        raise Failed(f"{len(bad)} tasks wrong, e.g. {json.dumps(bad[0])[:300]}")
    return seen


class Suite:
    def __init__(self, scenarios):
        self.scenarios = scenarios
        self.rows = []

    def run(self):
        if not os.path.exists(COHORT):
            sys.exit(f"faults/run: {COHORT} not built (swift build)")
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        fleet = Fleet(os.path.join(WORK, "fleet"), HOSTS)
        stop = {"signal": None}

        def interrupted(number, _frame):
            stop["signal"] = number
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupted)
        try:
            fleet.up()
            for s in self.scenarios:
                fleet.heal()
                self.settle(fleet)
                began = time.monotonic()
                try:
                    observed = s.body(fleet, os.path.join(WORK, s.name))
                    passed = True
                except Failed as e:
                    observed, passed = str(e), False
                except Exception as e:  # a scenario's own bug is a failure too, and says where
                    observed, passed = f"{type(e).__name__}: {e} at {traceback.format_exc(limit=-1).strip().splitlines()[-2].strip()}", False
                row = (s.name, s.expected, observed, passed, time.monotonic() - began)
                self.rows.append(row)
                print(f"{'PASS' if passed else 'FAIL'}  {s.name}  ({row[4]:.1f} s): {observed}", flush=True)
        except KeyboardInterrupt:
            print("faults/run: interrupted; tearing down", file=sys.stderr)
        finally:
            fleet.down()
        self.print_table()
        failed = sum(1 for r in self.rows if not r[3]) + (len(self.scenarios) - len(self.rows))
        passed = sum(1 for r in self.rows if r[3])
        print(f"faults: {passed} passed, {failed} failed")
        ok = failed == 0 and stop["signal"] is None
        if ok and not WORK.startswith(ROOT + "/"):  # kept for a look only when inside the checkout
            shutil.rmtree(WORK, ignore_errors=True)
        return 0 if ok else 1

    @staticmethod
    def settle(fleet):
        """Before each scenario: nothing of an earlier one still running on any host."""
        deadline = time.monotonic() + 60
        while True:
            left = {h: fleet.stray(h) for h in fleet.names}
            left = {h: p for h, p in left.items() if p}
            if not left:
                return
            if time.monotonic() > deadline:
                for h in left:  # do not let one scenario's leftovers fail the next
                    for line in left[h]:
                        try:
                            os.kill(int(line.split()[0]), signal.SIGKILL)
                        except (OSError, ValueError):
                            pass
                return
            time.sleep(0.2)

    def print_table(self):
        def cut(text, n):
            text = " ".join(str(text).split())
            return text if len(text) <= n else text[: n - 1] + "…"
        print()
        print(f"| {'scenario':26} | {'expected':52} | {'observed':70} | pass |")
        print(f"|{'-' * 28}|{'-' * 54}|{'-' * 72}|------|")
        for name, expected, observed, passed, _ in self.rows:
            print(f"| {name:26} | {cut(expected, 52):52} | {cut(observed, 70):70} | {'yes' if passed else 'NO':4} |")
        print()
