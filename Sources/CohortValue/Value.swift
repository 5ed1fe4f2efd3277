/// A value as templates see it: Python's types as Ansible's Jinja (native mode) uses them.
/// Templating is pure: no IO, no Foundation; the playbook layer converts YAML to and from it.
public enum Value: Hashable, Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case dict(Dict)
    /// What a missing variable, key or attribute evaluates to: harmless until used, when it
    /// fails with `why` ("'x' is undefined"); `default` and `is defined` accept it.
    case undefined(why: String)
    /// Python's naive `datetime` and `timedelta`, which `to_datetime` and subtraction give.
    case temporal(Temporal)

    public var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python's truth value.
    public var truthy: Bool {
        switch self {
        case .none, .undefined: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .float(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .dict(let d): !d.isEmpty
        case .temporal(let t): t.truthy
        }
    }

    /// Python's type name, for error messages ("of type int").
    public var typeName: String {
        switch self {
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .list: "list"
        case .dict: "dict"
        case .undefined: "Undefined"
        case .temporal(let t): t.typeName
        }
    }

    /// Python's name in operator errors: `datetime.datetime` where the class is not a builtin.
    package var qualifiedTypeName: String {
        if case .temporal(let t) = self { return t.qualifiedName }
        return typeName
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A number as Double, for arithmetic and comparisons that mix int and float.
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let d): d
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    /// The elements iterating over it gives, as Python's `iter()`: a dict's keys, a
    /// string's characters.
    package func elements() throws(TemplateError) -> [Value] {
        switch self {
        case .list(let l): return l
        case .dict(let d): return d.keys
        case .string(let s): return s.map { .string(String($0)) }
        case .undefined(let why): throw TemplateError(why)
        default: throw TemplateError("'\(typeName)' object is not iterable")
        }
    }

    // Python's equality: 1 == 1.0 == True.
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): true
        case (.string(let a), .string(let b)): a == b
        case (.list(let a), .list(let b)): a.elementsEqual(b, by: ==)
        case (.dict(let a), .dict(let b)): a == b
        case (.undefined, .undefined): true
        case (.temporal(let a), .temporal(let b)): a == b
        case (.temporal, _), (_, .temporal): false
        default:
            if let a = lhs.number, let b = rhs.number, !lhs.isText, !rhs.isText { a == b } else { false }
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .none: hasher.combine(0)
        case .string(let s): hasher.combine(s)
        case .list(let l): hasher.combine(l)
        case .dict(let d): hasher.combine(d.keys)
        case .undefined: hasher.combine(1)
        case .temporal(let t): hasher.combine(t)
        default: hasher.combine(number ?? 0)
        }
    }
}

/// A dict that keeps insertion order, as Python's does.
public struct Dict: Hashable, Sendable {
    public private(set) var keys: [Value] = []
    public private(set) var values: [Value] = []
    private var index: [Value: Int] = [:]

    public init() {}

    public init(_ pairs: [(Value, Value)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(strings pairs: [(String, Value)]) {
        for (key, value) in pairs { self[.string(key)] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    public var pairs: [(key: Value, value: Value)] { Array(zip(keys, values)).map { (key: $0.0, value: $0.1) } }

    public subscript(key: Value) -> Value? {
        get { index[key].map { values[$0] } }
        set {
            if let at = index[key] {
                if let newValue { values[at] = newValue } else { remove(at: at) }
            } else if let newValue {
                index[key] = keys.count
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    public subscript(name: String) -> Value? {
        get { self[.string(name)] }
        set { self[.string(name)] = newValue }
    }

    private mutating func remove(at position: Int) {
        keys.remove(at: position)
        values.remove(at: position)
        index = [:]
        for (offset, key) in keys.enumerated() { index[key] = offset }
    }

    public static func == (lhs: Dict, rhs: Dict) -> Bool {
        lhs.count == rhs.count && lhs.keys.allSatisfy { lhs[$0] == rhs[$0] }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(count) }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) { self = .dict(Dict(strings: elements)) }
}

extension Dict: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, Value)...) { self.init(strings: elements) }
}

extension Value {
    /// The dict inside, when this is one.
    public var dict: Dict? {
        if case .dict(let d) = self { return d }
        return nil
    }
}

extension Value {
    /// Strings, lists and dicts: what Python never treats as a number.
    package var isText: Bool {
        switch self {
        case .string, .list, .dict, .none, .undefined: true
        default: false
        }
    }
}
