/// `x.name`, `x[key]`, `x[a:b:c]`: a missing key or attribute is an undefined value naming
/// what was missing, as Jinja's ("'dict object' has no attribute 'port'"). Reading into an
/// undefined value gives it back, as ansible-core 2.19's undefined does, so that
/// `a.missing.deeper | default(x)` and `is defined` work and an error names the first gap.
enum Access {
    static func attribute(_ base: Value, _ name: String, line: Int) throws(TemplateError) -> Value {
        switch base {
        case .undefined: return base
        case .dict(let dict):
            return dict[name] ?? .undefined(why: "'dict object' has no attribute '\(name)'")
        case .temporal(let t):
            return t.attribute(name) ?? .undefined(why: "'\(objectName(base))' has no attribute '\(name)'")
        default:
            return .undefined(why: "'\(objectName(base))' has no attribute '\(name)'")
        }
    }

    static func item(_ base: Value, _ key: Value, line: Int) throws(TemplateError) -> Value {
        switch base {
        case .undefined: return base
        case .dict(let dict):
            if let value = dict[key] { return value }
            if case .string(let name) = key { return .undefined(why: "'dict object' has no attribute '\(name)'") }
            return .undefined(why: "'dict object' has no attribute \(key.pythonRepr)")
        case .list(let list):
            guard case .int(let index) = key else {
                if case .string(let name) = key { return .undefined(why: "'list object' has no attribute '\(name)'") }
                throw TemplateError("list indices must be integers, not \(key.typeName)", line: line)
            }
            let at = index < 0 ? list.count + index : index
            return list.indices.contains(at) ? list[at] : .undefined(why: "list object has no element \(index)")
        case .string(let text):
            guard case .int(let index) = key else { return .undefined(why: "'str object' has no attribute \(key.pythonRepr)") }
            let chars = Array(text)
            let at = index < 0 ? chars.count + index : index
            return chars.indices.contains(at) ? .string(String(chars[at])) : .undefined(why: "str object has no element \(index)")
        default:
            return .undefined(why: "'\(objectName(base))' has no attribute \(key.pythonRepr)")
        }
    }

    /// `a.b.c` as `map(attribute=)` and `selectattr` take it; numeric parts index lists.
    static func path(_ base: Value, _ path: String, line: Int) throws(TemplateError) -> Value {
        var value = base
        for part in path.split(separator: ".") {
            if value.isUndefined { return value }
            if case .list = value, let index = Int(part) {
                value = try item(value, .int(index), line: line)
            } else {
                value = try item(value, .string(String(part)), line: line)
            }
        }
        return value
    }

    static func slice(_ base: Value, _ start: Value?, _ stop: Value?, _ step: Value?, line: Int) throws(TemplateError) -> Value {
        func int(_ v: Value?) throws(TemplateError) -> Int? {
            switch v {
            case nil, .none?: return nil
            case .int(let i)?: return i
            default: throw TemplateError("slice indices must be integers or None", line: line)
            }
        }
        let stride = try int(step) ?? 1
        guard stride != 0 else { throw TemplateError("slice step cannot be zero", line: line) }
        func pick<T>(_ items: [T]) throws(TemplateError) -> [T] {
            let n = items.count
            func clamp(_ i: Int?, _ fallback: Int) -> Int {
                guard let i else { return fallback }
                let j = i < 0 ? i + n : i
                return stride > 0 ? min(max(j, 0), n) : min(max(j, -1), n - 1)
            }
            var out: [T] = []
            var i = clamp(try int(start), stride > 0 ? 0 : n - 1)
            let end = clamp(try int(stop), stride > 0 ? n : -1)
            while stride > 0 ? i < end : i > end {
                out.append(items[i])
                // A step past Int's range has left the sequence anyway.
                guard let next = Checked.sum(i, stride) else { break }
                i = next
            }
            return out
        }
        switch base {
        case .list(let list): return .list(try pick(list))
        case .string(let text): return .string(String(try pick(Array(text))))
        case .undefined(let why): throw TemplateError(why, line: line)
        default: throw TemplateError("'\(objectName(base))' is not subscriptable", line: line)
        }
    }

    static func objectName(_ value: Value) -> String {
        switch value {
        case .none: "NoneType object"
        case .string: "str object"
        case .list: "list object"
        case .dict: "dict object"
        default: "\(value.typeName) object"
        }
    }
}
