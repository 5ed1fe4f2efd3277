import CohortTemplate

/// community.general's `locale_gen` (collection 12.3.0), glibc's way, as pure functions of
/// the texts it reads: which names `/usr/share/i18n/SUPPORTED` or `locale -a` know
/// (`assert_available`), which `locale -a` lists (`locale_get_not_present`, through
/// `fix_case`), and `/etc/locale.gen` with names enabled or disabled (`set_locale_glibc`).
/// The module's own regular expressions, run by Cohort's Python `re` engine.
public enum LocaleGen {
    /// `LOCALE_NORMALIZATION`, in the module's order: `locale -a` writes `en_US.utf8`.
    static let normalization: [(String, String)] = [
        (".utf8", ".UTF-8"), (".eucjp", ".EUC-JP"), (".iso885915", ".ISO-8859-15"), (".cp1251", ".CP1251"), (".koi8r", ".KOI8-R"),
        (".armscii8", ".ARMSCII-8"), (".euckr", ".EUC-KR"), (".gbk", ".GBK"), (".gb18030", ".GB18030"), (".euctw", ".EUC-TW"),
    ]

    /// `fix_case`: the encodings `locale -a` lower-cases, upper-cased again.
    public static func fixCase(_ name: String) -> String {
        normalization.reduce(name) { $0.replacing($1.0, with: $1.1) }
    }

    /// The names `locale -a`'s output does not list.
    public static func notPresent(_ names: [String], localeA: String) -> [String] {
        let listed = Set(Strings.lines(localeA).map(fixCase))
        return names.filter { !listed.contains(fixCase($0)) }
    }

    /// The names neither SUPPORTED (commented or not) nor `locale -a` knows; the module fails
    /// naming them.
    public static func unavailable(_ names: [String], supported: String, localeA: String) throws(TemplateError) -> [String] {
        let line = try PythonRegex(#"^\s*#?\s*(?P<locale>\S+[\._\S]+) (?P<charset>\S+)\s*$"#)
        var known = Set<String>()
        for text in PythonText.lines(supported) {
            guard let match = try line.firstMatch(text), let locale = match.group(1) else { continue }
            known.insert(String(locale))
        }
        return notPresent(names.filter { !known.contains($0) }, localeA: localeA)
    }

    /// `/etc/locale.gen` (as `readlines()` gives it) with each name's lines enabled, or
    /// commented out (`# NAME CHARSET`).
    public static func edit(_ text: String, names: [String], enabled: Bool) throws(TemplateError) -> String {
        let rules = try names.map { name throws(TemplateError) in
            (try PythonRegex("^#?\\s*\(PythonRegex.escape(name)) (?P<charset>.+)"), (enabled ? "" : "# ") + name + #" \g<charset>"#)
        }
        var out = ""
        for var line in PythonText.lines(text) {
            for (search, replacement) in rules { line = try search.replace(line, with: replacement) }
            out += line
        }
        return out
    }
}
