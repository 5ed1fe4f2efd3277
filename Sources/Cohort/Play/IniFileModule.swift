import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `ini_file` (community.general, also by its short name): the file read on the host,
/// edited as the module edits it (IniFile), written atomically when it changed (its mode and
/// owner kept, or `mode`/`owner`/`group`), a missing folder made; results `changed`, `msg`,
/// `path`, `diff`, `backup_file` and exit_json's path info.
enum IniFileModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        func text(_ name: String) -> String? { args[name].flatMap { $0 == .none ? nil : $0.pythonString } }
        func flag(_ name: String, _ fallback: Bool) -> Bool { args[name].flatMap { $0 == .none ? nil : PlaybookLoader.boolean($0) } ?? fallback }
        let path = text("path") ?? ""
        let present = (text("state") ?? "present") == "present"
        let value = text("value")
        let valuesGiven = AptModule.list(args["values"])
        if value != nil, valuesGiven != nil { return FileModules.failure("parameters are mutually exclusive: value|values") }
        let allowNoValue = flag("allow_no_value", false)
        if present, !allowNoValue, value == nil, (valuesGiven ?? []).isEmpty {
            return FileModules.failure("Parameter 'value(s)' must be defined if state=present and allow_no_value=False.")
        }
        var request = IniFile.Request(section: text("section"), option: text("option"), values: value.map { [$0] } ?? valuesGiven ?? [])
        request.present = present
        request.exclusive = flag("exclusive", true)
        request.noExtraSpaces = flag("no_extra_spaces", false)
        request.ignoreSpaces = flag("ignore_spaces", false)
        request.allowNoValue = allowNoValue
        request.modifyInactiveOption = flag("modify_inactive_option", true)
        if case .list(let conditions)? = args["section_has_values"] {
            request.sectionHasValues = try conditions.map { item in
                guard case .dict(let condition) = item, let option = condition["option"], option != .none else {
                    throw TemplateError("section_has_values: each item needs an option")
                }
                let one = condition["value"].flatMap { $0 == .none ? nil : $0.pythonString }
                let many = AptModule.list(condition["values"])
                if one != nil, many != nil { throw TemplateError("section_has_values: parameters are mutually exclusive: value|values") }
                return IniFile.Condition(option: option.pythonString, values: one.map { [$0] } ?? many ?? [])
            }
        }

        var target = path
        if flag("follow", false) {
            target = try await SystemModules.run(["sh", "-c", "if [ -L \"$1\" ]; then realpath -- \"$1\"; else printf '%s\\n' \"$1\"; fi", "sh", path], call)
                .out.trimmingCharacters(in: .newlines)
        }
        let current = try await FileModules.one(.stat(path: target, follow: true, checksum: false), call, check: false)
        var original = ""
        if current["exists"]?.truthy == true {
            let read = try await FileModules.one(.read(path: target), call, check: false)
            if read["failed"]?.truthy == true { return FileModules.failure(read["msg"]?.pythonString ?? "cannot read \(target)") }
            original = String(decoding: Base64.decode(read["content"]?.pythonString ?? "") ?? [], as: UTF8.self)
        } else {
            if !flag("create", true) { return FileModules.failure("Destination \(target) does not exist!", ["rc": 257]) }
            let parent = (target as NSString).deletingLastPathComponent
            if !call.check, !parent.isEmpty { _ = try await FileModules.one(.mkdir(path: parent), call) }
        }
        let lines = IniFile.lines(original)
        let outcome = IniFile.edit(lines, request)
        var result: Dict = [
            "changed": .bool(outcome.changed),
            "diff": ["before": .string(call.diff ? lines.joined() : ""), "after": .string(call.diff ? outcome.text : ""),
                     "before_header": .string("\(target) (content)"), "after_header": .string("\(target) (content)")],
            "msg": .string(outcome.message), "path": .string(path),
        ]
        if !call.check, outcome.changed || current["exists"]?.truthy == true {
            // Written only when changed; the file's mode, owner and group set as asked either
            // way (set_fs_attributes_if_different).
            let attributes = FileModules.attributes(args)
            let op: FsOp = outcome.changed
                ? .write(path: target, content: Array(outcome.text.utf8), backup: flag("backup", false), attributes: attributes)
                : .attributes(path: target, attributes: attributes)
            let answer = try await FileModules.one(op, call)
            if answer["failed"]?.truthy == true { return FileModules.failure(answer["msg"]?.pythonString ?? "cannot write \(target)") }
            if answer["changed"]?.truthy == true { result["changed"] = true }
            if let backup = answer["backup_file"] { result["backup_file"] = backup }
        }
        return .dict(try await FileModules.withPathInfo(result, path, call))
    }
}
