import CohortCore
import Crypto
import Foundation

extension SHA256.Digest {
    /// Lower-case hex, as `sha256sum` prints it: the names of worker cache folders, journal
    /// fingerprints and the checksums copy and fetch compare with the worker's.
    var hex: String { Hex.lower(self) }
}

enum FileDigest {
    static func sha256(of bytes: [UInt8]) -> String { SHA256.hash(data: bytes).hex }

    /// Reads `handle` to its end, a megabyte at a time.
    static func sha256(reading handle: FileHandle) -> String {
        var hasher = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().hex
    }
}

/// SHA-1 hex, for Ansible's `checksum` fields (fetch compares the local copy with it).
enum Insecure_SHA1 {
    static func hex(_ bytes: [UInt8]) -> String {
        Hex.lower(Insecure.SHA1.hash(data: bytes))
    }
}
