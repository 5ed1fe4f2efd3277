/// A parsed template: statements, each expression with the line it came from.
indirect enum Node: Sendable {
    case text(String)
    case output(Expr)
    case ifChain([(condition: Expr, body: [Node])], otherwise: [Node])
    case forLoop(targets: [String], iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], line: Int)
    case set(targets: [String], value: Expr)
    case setBlock(target: String, body: [Node])
}

indirect enum Expr: Sendable {
    case literal(Value)
    case name(String, line: Int)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case attribute(Expr, String, line: Int)
    case item(Expr, Expr, line: Int)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?, line: Int)
    case call(Expr, args: [Expr], kwargs: [(String, Expr)], line: Int)
    case filter(Expr, name: String, args: [Expr], kwargs: [(String, Expr)], line: Int)
    case test(Expr, name: String, args: [Expr], negated: Bool, line: Int)
    case unary(String, Expr, line: Int)
    case binary(String, Expr, Expr, line: Int)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case not(Expr)
    case compare(Expr, [(String, Expr)], line: Int)
    case conditional(Expr, condition: Expr, otherwise: Expr?)
}
