/// The worker cache on a host (`~/.cache/cohort/<sha256>/`), as `cohort cache` shows and
/// prunes it: shell scripts for `AdHocRun`, since the cache must be reachable without a worker.
/// Only entries named by a SHA-256 are touched; each may name its program in `.program`
/// (written at upload; copies from before that are grouped as `?`).
public enum WorkerCache {
    /// Shell: walks the cache's entries, most recently used first, in a subshell, setting `o`
    /// (the entry) and `p` (its program, `?` when unnamed) for `body`; `skipping` passes over
    /// one entry (the copy just deployed); `after` runs once the walk is done (or at once
    /// when there is no cache).
    static func walk(_ body: String, skipping current: String? = nil, after: String = "") -> String {
        """
        ( cd "$HOME/.cache/cohort" 2>/dev/null || { \(after.isEmpty ? ":" : after); exit 0; }
          for o in $(ls -1t); do
            case "$o" in \(current ?? "-")) continue;; *[!0-9a-f]*) continue;; esac; [ ${#o} -eq 64 ] || continue
            p=$(head -n 1 "$o/.program" 2>/dev/null); [ -n "$p" ] || p='?'
            \(body)
          done
          \(after) )
        """
    }

    /// `walk` for `cohort cache`: also `s`, the entry's size in KiB, and a line when empty.
    private static func each(_ body: String) -> String {
        walk("n=$((n + 1)); s=$(du -sk \"$o\" | cut -f1)\n    " + body, after: #"[ "${n:-0}" -gt 0 ] || echo "no cached workers""#)
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
