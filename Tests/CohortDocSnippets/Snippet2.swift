import Cohort

struct DivisionByZero: Error, Codable { var numerator: Int }

func explain(_ result: Result<Int, JobFailure>) -> String {
    switch result {
    case .success(let quotient): "\(quotient)"
    case .failure(let failure):
        if let typed = failure.decode(DivisionByZero.self) { "\(typed.numerator) / 0" } else { "\(failure)" }
    }
}
