# A Debian package repository for the apt oracle, built here and served on loopback: tiny
# packages made with dpkg-deb in the folder given as the first argument, their Packages and
# Release index (a flat repository: `deb [trusted=yes] http://127.0.0.1:PORT/ ./`), served by
# Python's HTTP server on 127.0.0.1 at a port the kernel picks (bound with port 0), printed as
# "PORT N" on the first line once the repository is complete. Nothing comes from outside.
# Packages: cohort-hello 1.0 and 1.1 (a file holding its version), cohort-lib (what
# cohort-app depends on), cohort-conf (a conffile, for remove against purge); debs/ holds
# cohort-local 2.0 (depends on cohort-lib) and cohort-hello 0.9, which are in no index.
# Runs until killed.
import functools
import gzip
import hashlib
import http.server
import os
import signal
import subprocess
import sys

ROOT = sys.argv[1]
PACKAGES = [
    # (name, version, extra control lines, files {path: text}, conffiles)
    ("cohort-hello", "1.0", "", {"usr/share/cohort-hello/version": "1.0\n"}, []),
    ("cohort-hello", "1.1", "", {"usr/share/cohort-hello/version": "1.1\n"}, []),
    ("cohort-lib", "1.0", "", {"usr/share/cohort-lib/lib.txt": "lib\n"}, []),
    ("cohort-app", "1.0", "Depends: cohort-lib (>= 1.0)\n", {"usr/share/cohort-app/app.txt": "app\n"}, []),
    ("cohort-conf", "1.0", "", {"etc/cohort-conf.conf": "setting = 1\n"}, ["/etc/cohort-conf.conf"]),
]
LOOSE = [
    ("cohort-local", "2.0", "Depends: cohort-lib\n", {"usr/share/cohort-local/local.txt": "local\n"}, []),
    ("cohort-hello", "0.9", "", {"usr/share/cohort-hello/version": "0.9\n"}, []),
]


def build(folder, name, version, extra, files, conffiles):
    tree = os.path.join(ROOT, "build", "%s_%s" % (name, version))
    os.makedirs(os.path.join(tree, "DEBIAN"), exist_ok=True)
    for path, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(tree, path)), exist_ok=True)
        with open(os.path.join(tree, path), "w") as f:
            f.write(text)
    control = ("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Cohort tests <tests@cohort.invalid>\n"
               "Section: misc\nPriority: optional\n%sDescription: %s for the apt oracle\n") % (name, version, extra, name)
    with open(os.path.join(tree, "DEBIAN", "control"), "w") as f:
        f.write(control)
    if conffiles:
        with open(os.path.join(tree, "DEBIAN", "conffiles"), "w") as f:
            f.write("".join(c + "\n" for c in conffiles))
    # A fixed time for every file: the same package bytes on every run.
    for base, dirs, names in os.walk(tree):
        for entry in dirs + names:
            os.utime(os.path.join(base, entry), (1700000000, 1700000000))
    os.makedirs(os.path.join(ROOT, folder), exist_ok=True)
    deb = os.path.join(ROOT, folder, "%s_%s_all.deb" % (name, version))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, deb], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"))
    return control, deb


def main():
    stanzas = []
    for entry in PACKAGES:
        control, deb = build("pool", *entry)
        data = open(deb, "rb").read()
        stanzas.append(control.replace("Description:", "Filename: ./pool/%s\nSize: %d\nMD5sum: %s\nSHA256: %s\nDescription:" % (
            os.path.basename(deb), len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()), 1))
    for entry in LOOSE:
        build("debs", *entry)
    index = "\n".join(stanzas).encode()
    with open(os.path.join(ROOT, "Packages"), "wb") as f:
        f.write(index)
    packed = gzip.compress(index, mtime=0)
    with open(os.path.join(ROOT, "Packages.gz"), "wb") as f:
        f.write(packed)
    release = "Origin: cohort-test\nLabel: cohort-test\nSuite: test\nCodename: test\nDate: Tue, 14 Nov 2023 22:13:20 UTC\nArchitectures: all amd64\nSHA256:\n"
    for name, data in (("Packages", index), ("Packages.gz", packed)):
        release += " %s %d %s\n" % (hashlib.sha256(data).hexdigest(), len(data), name)
    with open(os.path.join(ROOT, "Release"), "w") as f:
        f.write(release)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=ROOT))
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


main()
