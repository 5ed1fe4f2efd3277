import Cohort

struct Square: Job {
    func run(_ x: Int) async throws -> Int { x * x }
}

func sumOfSquares() async throws -> Int {
    try await Cluster.with(inventory: "hosts.ini") { cluster in
        var total = 0
        for round in 0..<10 {   // ten maps, one login per host
            total += try await cluster.reduce(Square.self, Array(round * 64..<(round + 1) * 64), into: 0) { $0 += $1 }
        }
        return total
    }
}
