import Cohort
import CohortWire
import Testing

/// Where `cohort copy` puts each source, without a host: a directory's landing depends on its
/// own name alone (rsync's and Ansible copy's rule), a file's on DEST as `cp` decides.
@Suite struct CopyPlacementTests {
    static let directory = LocalItem(path: "site", components: [], kind: .directory, mode: 0o755, size: 0, linkTarget: "")
    static let inner = LocalItem(path: "site/index.html", components: ["index.html"], kind: .file, mode: 0o644, size: 3, linkTarget: "")
    static let file = LocalItem(path: "notes.txt", components: [], kind: .file, mode: 0o644, size: 3, linkTarget: "")

    func land(_ item: LocalItem, _ source: String, directory: Bool, sources: Int = 1, _ destination: String, destinationIsDirectory: Bool) -> String {
        CopyPlacement.remotePath(
            for: item, source: source, sourceIsDirectory: directory, sources: sources, destination: destination,
            destinationIsDirectory: destinationIsDirectory)
    }

    @Test(arguments: [false, true]) func aDirectoryLandsTheSameWhateverTheHostHolds(destinationThere: Bool) {
        #expect(land(Self.directory, "site", directory: true, "/srv/www", destinationIsDirectory: destinationThere) == "/srv/www/site")
        #expect(land(Self.inner, "site", directory: true, "/srv/www", destinationIsDirectory: destinationThere) == "/srv/www/site/index.html")
        #expect(land(Self.inner, "./a/site", directory: true, "/srv/www/", destinationIsDirectory: destinationThere) == "/srv/www/site/index.html")
        // DIR/ (and . or ..) is what DIR holds, put into DEST.
        #expect(land(Self.directory, "site/", directory: true, "/srv/www", destinationIsDirectory: destinationThere) == "/srv/www")
        #expect(land(Self.inner, "site/", directory: true, "/srv/www", destinationIsDirectory: destinationThere) == "/srv/www/index.html")
        #expect(land(Self.inner, ".", directory: true, "~/w", destinationIsDirectory: destinationThere) == "~/w/index.html")
        #expect(land(Self.inner, "a/..", directory: true, "~/w", destinationIsDirectory: destinationThere) == "~/w/index.html")
        #expect(land(Self.inner, "site/", directory: true, "/", destinationIsDirectory: destinationThere) == "/index.html")
    }

    @Test func aFileLandsAsCpPutsIt() {
        #expect(land(Self.file, "notes.txt", directory: false, "~/n", destinationIsDirectory: false) == "~/n")
        #expect(land(Self.file, "notes.txt", directory: false, "~/n", destinationIsDirectory: true) == "~/n/notes.txt")
        #expect(land(Self.file, "notes.txt", directory: false, "~/n/", destinationIsDirectory: false) == "~/n/notes.txt")
        #expect(land(Self.file, "a/notes.txt", directory: false, sources: 2, "/", destinationIsDirectory: false) == "/notes.txt")
    }

    @Test func destMustBeADirectoryForATreeSeveralSourcesOrATrailingSlash() {
        #expect(CopyPlacement.needsDirectory(sources: 1, anyDirectory: true, destination: "~/d"))
        #expect(CopyPlacement.needsDirectory(sources: 2, anyDirectory: false, destination: "~/d"))
        #expect(CopyPlacement.needsDirectory(sources: 1, anyDirectory: false, destination: "~/d/"))
        #expect(!CopyPlacement.needsDirectory(sources: 1, anyDirectory: false, destination: "~/d"))
    }
}
