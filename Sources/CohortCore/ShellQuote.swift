import Foundation

/// POSIX shell quoting, so that an argv crosses a remote `sh -c` unchanged.
public enum ShellQuote {
    /// Quotes one word: safe words stay bare, everything else goes in single quotes.
    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        let safe = word.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", ":", "@", "%", "+", "=", ",":
                return true
            default:
                return false
            }
        }
        if safe { return word }
        return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// One argument is already a command line (as with `ssh host 'cmd'`); several are an argv.
    public static func commandLine(_ argv: [String]) -> String {
        if argv.count == 1 { return argv[0] }
        return argv.map(quote).joined(separator: " ")
    }
}
