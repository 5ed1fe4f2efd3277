/// The worker cache on a host (`~/.cache/cohort/<sha256>/`), as `cohort cache` shows and
/// prunes it: shell scripts for `AdHocRun`, since the cache must be reachable without a worker.
/// Only entries named by a SHA-256 are touched; each may name its program in `.program`
/// (written at upload; copies from before that are grouped as `?`).
public enum WorkerCache {
    /// Walks the entries, most recently used first, setting `o` (the entry), `p` (its program)
    /// and `s` (KiB) for `body`.
    private static func each(_ body: String) -> String {
        """
        c="$HOME/.cache/cohort"; [ -d "$c" ] || { echo "no worker cache"; exit 0; }; cd "$c" || exit 1; n=0
        for o in $(ls -1t); do
          case "$o" in *[!0-9a-f]*) continue;; esac; [ ${#o} -eq 64 ] || continue; n=$((n + 1))
          p=$(head -n 1 "$o/.program" 2>/dev/null); [ -n "$p" ] || p='?'; s=$(du -sk "$o" | cut -f1)
          \(body)
        done
        [ $n -gt 0 ] || echo "no cached workers"
        """
    }

    /// One line per cached copy: its hash (12 digits), program, size and when it was last used.
    public static let listScript = each(#"printf '%s  %s  %s KiB  used %s\n' "$(printf %.12s "$o")" "$p" "$s" "$(date -r "$o" '+%Y-%m-%d %H:%M')""#)

    /// Removes every copy but the most recently used one of each program (`all`: every copy),
    /// saying what it did with each.
    public static func pruneScript(all: Bool) -> String {
        let keepNewest = """
            if [ -z "$(printf '%s\\n' "$seen" | grep -Fx -- "$p")" ]; then seen="$seen
            $p"; printf 'kept     %s  %s  %s KiB\\n' "$(printf %.12s "$o")" "$p" "$s"; continue; fi
            """
        return "seen=''\n" + each("""
            \(all ? "" : keepNewest)
            rm -rf "./$o" && printf 'removed  %s  %s  %s KiB\\n' "$(printf %.12s "$o")" "$p" "$s"
            """)
    }
}
