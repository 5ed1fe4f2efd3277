import CohortPlaybook
import Testing

/// `LocaleGen` against community.general 12.3.0's `locale_gen`: each row is what the module's
/// own `fix_case`, `assert_available` (its message, or "" when every name is available),
/// `locale_get_not_present` (with `locale -a` answering `localeA`) and `set_locale_glibc` gave
/// for the same texts.
@Suite struct LocaleGenTests {
    static let supported = "# comment line\nde_CH.UTF-8 UTF-8\nde_CH ISO-8859-1\n  en_US.UTF-8 UTF-8\nsr_RS@latin UTF-8\n#x 1\nbad line here\nen_GB.ISO-8859-15 ISO-8859-15\n"
    static let localeA = "C\nC.utf8\nPOSIX\nen_US.utf8\nja_JP.eucjp\n"
    static let localeGen = "# This file lists locales\n#\n# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n#de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\n# sr_RS@latin UTF-8\nno newline at end"
    @Test(arguments: [
        ("en_US.utf8", "en_US.UTF-8"),
        ("ja_JP.eucjp", "ja_JP.EUC-JP"),
        ("de_DE.UTF-8", "de_DE.UTF-8"),
        ("x.utf8.utf8", "x.UTF-8.UTF-8"),
        ("ru_RU.koi8r", "ru_RU.KOI8-R"),
        ("zh_CN.gb18030", "zh_CN.GB18030"),
        ("C", "C"),
    ] as [(String, String)])
    func namesAreNormalisedAsTheModule(_ name: String, _ expected: String) {
        #expect(LocaleGen.fixCase(name) == expected)
    }

    @Test(arguments: [
        (["de_CH.UTF-8"], "", ["de_CH.UTF-8"]),
        (["de_CH"], "", ["de_CH"]),
        (["en_US.UTF-8"], "", []),
        (["en_US.utf8"], "", []),
        (["C.UTF-8"], "", []),
        (["xx_YY.UTF-8", "de_CH.UTF-8", "zz"], "The following locales you have entered are not available on your system: xx_YY.UTF-8, zz", ["xx_YY.UTF-8", "de_CH.UTF-8", "zz"]),
        (["sr_RS@latin"], "", ["sr_RS@latin"]),
        (["#x"], "", ["#x"]),
        (["x"], "The following locales you have entered are not available on your system: x", ["x"]),
        (["bad"], "The following locales you have entered are not available on your system: bad", ["bad"]),
        (["en_GB.ISO-8859-15"], "", ["en_GB.ISO-8859-15"]),
        (["ja_JP.EUC-JP"], "", []),
    ] as [([String], String, [String])])
    func availabilityAndPresenceAsTheModule(_ names: [String], _ message: String, _ notPresent: [String]) throws {
        let missing = try LocaleGen.unavailable(names, supported: Self.supported, localeA: Self.localeA)
        #expect((missing.isEmpty ? "" : "The following locales you have entered are not available on your system: " + missing.joined(separator: ", ")) == message)
        #expect(LocaleGen.notPresent(names, localeA: Self.localeA) == notPresent)
    }

    @Test(arguments: [
        (["de_CH.UTF-8"], true, "# This file lists locales\n#\n# de_CH ISO-8859-1\nde_CH.UTF-8 UTF-8\n#de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\n# sr_RS@latin UTF-8\nno newline at end"),
        (["de_CH"], true, "# This file lists locales\n#\nde_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n#de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\n# sr_RS@latin UTF-8\nno newline at end"),
        (["de_DE.UTF-8", "fr_FR.UTF-8"], true, "# This file lists locales\n#\n# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n# sr_RS@latin UTF-8\nno newline at end"),
        (["en_US.UTF-8"], false, "# This file lists locales\n#\n# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n#de_DE.UTF-8 UTF-8\n# en_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\n# sr_RS@latin UTF-8\nno newline at end"),
        (["de_CH.UTF-8"], false, "# This file lists locales\n#\n# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n#de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\n# sr_RS@latin UTF-8\nno newline at end"),
        (["sr_RS@latin"], true, "# This file lists locales\n#\n# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n#de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\nsr_RS@latin UTF-8\nno newline at end"),
        (["nothing"], true, "# This file lists locales\n#\n# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n#de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\n# sr_RS@latin UTF-8\nno newline at end"),
    ] as [([String], Bool, String)])
    func localeGenIsEditedAsTheModule(_ names: [String], _ enabled: Bool, _ expected: String) throws {
        #expect(try LocaleGen.edit(Self.localeGen, names: names, enabled: enabled) == expected)
    }
}
