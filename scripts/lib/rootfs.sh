# Separate Debian hosts for scripts/testfleet --rootfs (sourced, needs root).
#
# One Debian 12 root is built once with mmdebstrap and kept (COHORT_ROOTFS, default
# ~/.cache/cohort/rootfs-bookworm-v5); each host mounts it as the lower layer of an overlay of
# its own inside a new mount namespace, so that everything a run changes lands in the host's
# upper directory (DIR/hN/upper) and never on this machine. sshd runs chrooted there in its own
# PID and UTS namespaces (hostname hN); the network is the machine's loopback, as for the plain
# fleet. Users in the root: deploy (sudo without a password), carol (sudo with the password
# "carol-sudo-pw"), nobody-home (no sudo); root may log in with the key too.

ROOTFS_VERSION=v5
# locales: locale_gen; unzip (and its zipinfo): zip archives for unarchive, as ansible-core drives them.
ROOTFS_PACKAGES=openssh-server,sudo,python3,python3-apt,cron,acl,locales,unzip
CAROL_PASSWORD=carol-sudo-pw

rootfs_base() { echo "${COHORT_ROOTFS:-${XDG_CACHE_HOME:-$HOME/.cache}/cohort/rootfs-bookworm-$ROOTFS_VERSION}"; }

# Builds the base root once (a lock keeps parallel tests from building it twice).
rootfs_ensure() {
  local base; base=$(rootfs_base)
  [ -f "$base/.cohort-complete" ] && return 0
  [ "$(id -u)" = 0 ] || { echo "testfleet: --rootfs needs root (mounts and namespaces)" >&2; exit 4; }
  command -v mmdebstrap >/dev/null || { echo "testfleet: mmdebstrap not found (apt-get install mmdebstrap)" >&2; exit 4; }
  mkdir -p "$(dirname "$base")"
  exec 9>"$base.lock"
  flock 9
  if [ ! -f "$base/.cohort-complete" ]; then
    local tmp="$base.tmp.$$"
    rm -rf "$tmp"
    echo "testfleet: building the Debian root for --rootfs in $base (once, about a minute)" >&2
    mmdebstrap --quiet --variant=minbase --include="$ROOTFS_PACKAGES" bookworm "$tmp" >&2 || { rm -rf "$tmp"; exit 1; }
    chroot "$tmp" /bin/sh -ec "
      useradd -m -s /bin/bash deploy
      useradd -m -s /bin/bash carol
      useradd -m -s /bin/bash nobody-home
      echo 'carol:$CAROL_PASSWORD' | chpasswd
      # No password, but not locked: sshd (without PAM) refuses a locked account's key login.
      usermod -p '*' deploy && usermod -p '*' nobody-home && usermod -p '*' root
      echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy
      echo 'carol ALL=(ALL:ALL) ALL' > /etc/sudoers.d/carol
      chmod 0440 /etc/sudoers.d/deploy /etc/sudoers.d/carol
      rm -f /etc/ssh/ssh_host_*
      mkdir -p /run/sshd && chmod 0755 /run/sshd
      # No package source: an apt-get update on a test host must never reach a mirror (tests
      # add a loopback repository of their own).
      rm -f /etc/apt/sources.list && rm -rf /var/lib/apt/lists/* && mkdir -p /var/lib/apt/lists/partial
    "
    rm -rf "$base"
    touch "$tmp/.cohort-complete"
    mv "$tmp" "$base"
  fi
  exec 9>&-
}

# start_rootfs_host INDEX ADDRESS PORT -> starts the host's namespaces and sshd in the background;
# prints the PID of `unshare` (what `down` ends: its child, the namespace's PID 1, dies with it).
start_rootfs_host() {
  local i=$1 addr=$2 port=$3 hdir="$dir/h$1" base; base=$(rootfs_base)
  mkdir -p "$hdir/upper" "$hdir/work" "$hdir/root"
  # What the host is given before it starts: written into its upper layer.
  mkdir -p "$hdir/upper/etc/ssh" "$hdir/upper/var/log"
  echo "h$i" > "$hdir/upper/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\th%s\n' "$i" > "$hdir/upper/etc/hosts"
  cp "$hdir/ssh_host_ed25519_key" "$hdir/ssh_host_ed25519_key.pub" "$hdir/upper/etc/ssh/"
  cp "$dir/authorized_keys" "$hdir/upper/etc/ssh/cohort_authorized_keys"
  chmod 0644 "$hdir/upper/etc/ssh/cohort_authorized_keys"
  cat > "$hdir/upper/etc/ssh/sshd_config_cohort" <<CONF
ListenAddress $addr:$port
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile /etc/ssh/cohort_authorized_keys
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxSessions $max_sessions
MaxStartups $max_startups
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
CONF
  : > "$hdir/upper/var/log/sshd.log"
  unshare --mount --pid --uts --fork --kill-child --propagation private -- /bin/sh -ec '
    h=$1; base=$2; name=$3
    mount -t overlay overlay -o "lowerdir=$base,upperdir=$h/upper,workdir=$h/work" "$h/root"
    mount -t proc proc "$h/root/proc"
    mount -t tmpfs -o mode=0755 tmpfs "$h/root/run"
    # A pseudo-terminal instance of its own (ansible-playbook asks for a PTY for async tasks).
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$h/root/dev/pts"
    mount --bind "$h/root/dev/pts/ptmx" "$h/root/dev/ptmx"
    mkdir -p "$h/root/run/sshd"
    hostname "$name"
    exec chroot "$h/root" /usr/sbin/sshd -D -f /etc/ssh/sshd_config_cohort -E /var/log/sshd.log
  ' rootfs-host "$hdir" "$base" "h$i" </dev/null >"$hdir/namespace.log" 2>&1 &
  echo $!
}
