import Cohort

struct Settings: Codable, Sendable { var stopWords: Set<String> }

struct CountWords: Job {
    func run(_ line: String) async throws -> Int {
        let settings = try JobContext.current(Settings.self)   // decoded once per worker
        return line.split(separator: " ").filter { !settings.stopWords.contains(String($0)) }.count
    }
}

func countWords(_ lines: [String], on cluster: Cluster) async throws -> Int {
    let settings = Settings(stopWords: ["a", "an", "the"])
    return try await cluster.reduce(CountWords.self, lines, into: 0, context: settings) { $0 += $1 }
}
