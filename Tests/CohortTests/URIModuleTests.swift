import CohortTemplate
import Testing

@testable import Cohort

/// uri's pure pieces, with rows from Python: `urlencode(pairs, doseq=True)`, urljoin of a
/// Location, the content type's subtype as parse_content_type reads it, get_url's file name.
struct URIModuleTests {
    @Test func formBodiesAreEncodedAsUrlencode() {
        let body: Value = .dict(Dict(strings: [("q", "a b&c"), ("list", [1, 2]), ("ü", "~x/y"), ("none", .none)]))
        #expect(URIModule.formEncoded(body) == "q=a+b%26c&list=1&list=2&%C3%BC=~x%2Fy")
        #expect(URIModule.formEncoded([["k", "v"], ["k", "w"]]) == "k=v&k=w")
        #expect(URIModule.formEncoded("text") == nil)
    }

    @Test func locationsAreJoinedToTheURL() {
        #expect(URIModule.joined("/b", base: "http://h:8/a/c?x") == "http://h:8/b")
        #expect(URIModule.joined("d", base: "http://h:8/a/c?x") == "http://h:8/a/d")
        #expect(URIModule.joined("http://o/p", base: "http://h/") == "http://o/p")
    }

    @Test func theSubtypeDecidesWhetherTheBodyIsJSON() {
        #expect(URIModule.contentType("application/json; charset=utf-8").subtype == "json")
        #expect(URIModule.contentType("application/problem+json").subtype == "json")
        #expect(URIModule.contentType(nil) == ("application", "octet-stream"))
    }

    @Test func cookiesAreNameValuePairs() {
        #expect(URIModule.cookies("session=abc123; Path=/, theme=dark").map { "\($0.0)=\($0.1)" } == ["session=abc123", "theme=dark"])
        #expect(URIModule.cookies(nil).isEmpty)
    }

    @Test func aDownloadIntoAFolderIsNamedAsGetURLNamesIt() {
        #expect(HTTPFilename.fromURL("http://h/a/b.tar.gz?x=1") == "b.tar.gz")
        #expect(HTTPFilename.fromURL("http://h/") == "index.html")
        #expect(HTTPFilename.fromURL("http://h") == "index.html")
        #expect(HTTPFilename.fromDisposition("attachment; filename=\"../report.csv\"") == "report.csv")
        #expect(HTTPFilename.fromDisposition("inline") == nil)
        #expect(GetURLModule.masked("http://u:secret@h/x") == "http://u:********@h/x")
        #expect(GetURLModule.wholeSeconds(.float(1_700_000_000.9)) == 1_700_000_000)
        #expect(GetURLModule.wholeSeconds(.float(1e300)) == nil)
        #expect(GetURLModule.wholeSeconds(.float(.nan)) == nil)
    }
}
