# Cohort: every target installs what it needs on a fresh Debian 12 machine with Swift.
SHELL := /bin/bash
SWIFT ?= swift
# libssl-dev and zlib1g-dev hold the .a files that CohortSSH links in (Package.swift).
APT_PACKAGES := libssh2-1-dev libssl-dev zlib1g-dev openssh-server openssh-client pkg-config python3 python3-venv nftables mmdebstrap sudo xz-utils bzip2 zstd
ORACLE_VENV := .build-oracle/venv
FLEET_DIR := $(CURDIR)/.fleet-demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps oracle build static test demo bench bench-quick bench-micro fuzz faults clean

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y -q $$missing || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $$missing; }; \
	fi

# ansible-core is the compatibility oracle (with passlib, which its password_hash needs); it
# lives in its own venv. The ansible.posix (authorized_key, sysctl) and community.general (ini_file, alternatives, timezone, locale_gen)
# collections come from the `ansible` package on PyPI, whose wheel carries them: only those
# collections' folders are taken.
ANSIBLE_PACKAGE := ansible==12.3.0
oracle: deps
	@[ -x $(ORACLE_VENV)/bin/ansible-inventory ] && $(ORACLE_VENV)/bin/python -c 'import passlib' 2>/dev/null || { \
	  python3 -m venv $(ORACLE_VENV) && $(ORACLE_VENV)/bin/pip install -q --disable-pip-version-check ansible-core==2.19.14 passlib==1.7.4; }
	@$(ORACLE_VENV)/bin/python -c 'import ansible_collections.ansible.posix, ansible_collections.community.general' 2>/dev/null || { \
	  rm -rf .build-oracle/wheels && $(ORACLE_VENV)/bin/pip download -q --disable-pip-version-check --no-deps -d .build-oracle/wheels '$(ANSIBLE_PACKAGE)' && \
	  $(ORACLE_VENV)/bin/python scripts/lib/take_collection.py .build-oracle/wheels/ansible-*.whl ansible/posix && \
	  $(ORACLE_VENV)/bin/python scripts/lib/take_collection.py .build-oracle/wheels/ansible-*.whl community/general; }

build: deps
	$(SWIFT) build

# Library programs are their own workers: built with the Swift runtime inside (libssh2 and
# OpenSSL are always linked in), they start on hosts that have only glibc. A scratch path of
# its own, so that the flag does not invalidate the normal build.
STATIC_PROGRAMS := cohort-primes
static: deps
	for p in $(STATIC_PROGRAMS); do $(SWIFT) build --static-swift-stdlib --scratch-path .build-static --product $$p || exit; done

# Tests start their own sshd fleets under TEST_TMP; whatever an interrupted run left there is
# stopped afterwards (testfleet stops only processes whose command line names their directory).
# Then, as root, the whole fault suite (faults/run, about 3 minutes): its scorecard is printed.
TEST_TMP := $(CURDIR)/.build-test-tmp
# As root, the separate-host tests need the cached Debian root: built here (mmdebstrap, about
# a minute, once), so that no test waits on a download.
test: deps oracle static
	$(SWIFT) build
	@rm -rf $(TEST_TMP) && mkdir -p $(TEST_TMP)
	@if [ "$$(id -u)" = 0 ]; then scripts/testfleet rootfs --dir $(TEST_TMP)/rootfs-prepare; fi
	@status=0; \
	TMPDIR=$(TEST_TMP)/ COHORT_ANSIBLE_INVENTORY=$(CURDIR)/$(ORACLE_VENV)/bin/ansible-inventory COHORT_BIN=$(CURDIR)/.build/debug/cohort \
	  $(SWIFT) test --parallel || status=$$?; \
	for d in $(TEST_TMP)/cohort-fleet-*; do [ -f "$$d/pids" ] && scripts/testfleet down --dir "$$d" 2>/dev/null; done; \
	if [ "$$(id -u)" = 0 ]; then COHORT_BIN=$(CURDIR)/.build/debug/cohort faults/run || status=1; \
	else echo "make test: the fault suite (faults/run) needs root for network namespaces; not run"; fi; \
	exit $$status

DEMO_CMD := echo "$$(uname -sm), sshd on port $${SSH_CONNECTION\#\#* }"
demo: build
	@scripts/testfleet up 4 --dir $(FLEET_DIR)
	@trap 'scripts/testfleet down --dir $(FLEET_DIR)' EXIT; \
	set -x; \
	.build/debug/cohort run -i $(FLEET_DIR)/inventory.ini -F none all -- '$(DEMO_CMD)'; \
	.build/debug/cohort run -i $(FLEET_DIR)/inventory.ini -F none --gather all -- uname -s; \
	.build/debug/cohort map -i $(FLEET_DIR)/inventory.ini -F none -k --tag 'echo {} | sha256sum | cut -c1-16' ::: alpha beta gamma delta; \
	.build/debug/cohort inventory -i $(FLEET_DIR)/inventory.ini --graph; \
	.build/debug/cohort play -i $(FLEET_DIR)/inventory.ini -F none playbooks/site.yml; \
	.build/debug/cohort play -i $(FLEET_DIR)/inventory.ini -F none playbooks/facts.yml; \
	.build/debug/cohort play -i $(FLEET_DIR)/inventory.ini -F none playbooks/fetch.yml -e dest=$(FLEET_DIR)/fetched

# Benchmarks against the peers (GNU parallel, parallel-ssh, pdsh, Ansible); not part of make test.
bench: deps
	bench/run

bench-quick: deps
	bench/run --quick

# Frames/s of the codec and decisions/s of the scheduler (ordo-one/benchmark, bench/micro).
bench-micro: deps
	cd bench/micro && $(SWIFT) package --allow-writing-to-package-directory benchmark

# libFuzzer over every parser of untrusted input (fuzz/run): FUZZ_SECONDS per target (60), the
# corpora in fuzz/corpus grow and are kept in git; a crash fails it and leaves its input in fuzz/crashes.
FUZZ_SECONDS ?= 60
fuzz: deps
	fuzz/run $(FUZZ_SECONDS)

# The fault suite's scorecard (faults/run; root: network namespaces): real hosts cut off,
# slowed, reset and corrupted one at a time; last line `faults: N passed, M failed`.
faults: build
	faults/run

clean:
	rm -rf .build .build-static .build-oracle .build-faults .fleet*
