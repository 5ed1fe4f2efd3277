import CohortCore
import Testing

@testable import CohortVault

/// Envelopes made by ansible-vault 2.19 (`ansible-vault encrypt --vault-password-file`,
/// `--vault-id prod@FILE`, `encrypt_string`), opened without a host.
struct VaultTests {
    /// `vars.yml` encrypted with the password "correct horse".
    static let file = """
        $ANSIBLE_VAULT;1.1;AES256
        62376639626637333363343864303837396163633039386338643233643735373631666566306132
        3166316166323533653738366266363537626561343932360a346532363734393266666663303534
        64353734663137366630633239303964623639373336623765386564656430353661353436303935
        3835643630623335390a623237666564616232633436623666333837393436323235356431303639
        66333538393335343965376639656138303964383965366563383634646230323266633265346366
        39623231366161323266346637663238626139313165393034653363643334363138356637346130
        323931613234633534316463333936393835
        """
    /// The same text under vault id `prod`, password "other-pw".
    static let labelled = """
        $ANSIBLE_VAULT;1.2;AES256;prod
        33636664303038353666353130326533343034323134316639653036636661666563663535613835
        3261643039393936306237656235306338356665333566380a356534323862613637376265303431
        32643865323464366235343935626534653361653734333436636431633230613137376133363937
        3731343232313264370a356662363734323130636532343636326433386635613261333736663464
        34653439616234643735373061663330353264323563643237316532623930313930646537646135
        62633436396433313866636466393063333535383930656365363363666566376339323164333136
        353330633332323538393333663664376266
        """
    /// Sixteen "x": the padding is one whole block.
    static let sixteen = """
        $ANSIBLE_VAULT;1.1;AES256
        64663162623966643261643961306664353431363136663336363861613636323466333635653336
        3936333834613466623261616561663535343963336266370a623439313232356135366632333532
        30393037303932383962626435343435346463306137376230366538396563353737353263656461
        3839316662373930360a303962393130643761656263346530383032353134666238303939613166
        35663536616263326230326131653935306563363637393463396534393232666431
        """
    static let plain = "secret_word: swordfish\nnested:\n  key: \"{{ 1 + 1 }}\"\n"
    static let horse = VaultSecret(label: "default", password: Array("correct horse".utf8))
    static let other = VaultSecret(label: "prod", password: Array("other-pw".utf8))

    @Test func aFileOpensWithItsPassword() throws {
        #expect(throws: CohortError.self) { try Vault.open(Self.file, file: "vars.yml") }
        #expect(try Vault.open("plain: text\n", file: "plain.yml") == "plain: text\n")
        let text = try Vault.$secrets.withValue([Self.horse]) { try Vault.open(Self.file, file: "vars.yml") }
        #expect(text == Self.plain)
        #expect(try Vault.decrypt(Self.sixteen, secrets: [Self.horse], file: "x") == Array(repeating: UInt8(ascii: "x"), count: 16))
    }

    @Test func theVaultIdIsTriedFirstAndTheOthersAfter() throws {
        let parsed = try #require(VaultEnvelope.parse(Self.labelled))
        #expect(parsed.version == "1.2" && parsed.vaultID == "prod" && parsed.salt.count == 32 && parsed.hmac.count == 32)
        #expect(try Vault.decrypt(Self.labelled, secrets: [Self.horse, Self.other], file: "x") == Array(Self.plain.utf8))
        let unlabelled = VaultSecret(label: "default", password: Self.other.password)
        #expect(try Vault.decrypt(Self.labelled, secrets: [Self.horse, unlabelled], file: "x") == Array(Self.plain.utf8))
    }

    @Test func aWrongPasswordOrNoneIsAClearError() {
        #expect(throws: CohortError(.invalidInput, "decryption failed (no vault secrets were found that could decrypt)", file: "vars.yml")) {
            try Vault.decrypt(Self.file, secrets: [Self.other], file: "vars.yml")
        }
        #expect(throws: CohortError(
            .invalidInput, "vault-encrypted data, and no vault password was given (--vault-password-file, --vault-id or --ask-vault-pass)", file: "vars.yml")) {
            try Vault.decrypt(Self.file, secrets: [], file: "vars.yml")
        }
    }

    /// One ciphertext digit changed: the HMAC refuses it before anything is decrypted.
    @Test func aTamperedCiphertextIsRefused() throws {
        var lines = Self.file.split(separator: "\n").map(String.init)
        let last = lines.count - 1
        lines[last] = String(lines[last].dropLast()) + (lines[last].hasSuffix("0") ? "1" : "0")
        #expect(throws: CohortError.self) { try Vault.decrypt(lines.joined(separator: "\n"), secrets: [Self.horse], file: "x") }
    }

    @Test func notAnEnvelopeIsNil() {
        #expect(VaultEnvelope.parse("$ANSIBLE_VAULT;1.1") == nil)
        #expect(VaultEnvelope.parse("$ANSIBLE_VAULT;1.1;AES256\nzz") == nil)
        #expect(VaultEnvelope.parse("$ANSIBLE_VAULT;1.1;AES256\n616263") == nil)
        #expect(VaultEnvelope.unpad([1, 2, 3]) == nil)
        #expect(VaultEnvelope.unpad(Array(repeating: 0, count: 16)) == nil)
    }

    @Test func aPasswordFileIsStrippedAndNeverEmpty() throws {
        #expect(try Vault.secret(label: "default", fileText: Array(" pw \r\n".utf8), file: "f").password == Array("pw".utf8))
        #expect(throws: CohortError(.invalidInput, "Invalid vault password was provided from file (f)")) {
            try Vault.secret(label: "default", fileText: Array(" \n".utf8), file: "f")
        }
    }
}
