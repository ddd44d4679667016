//! What to run on a decision: the amd_execute_on_* variables and execute_on_machine_app/arg.

use crate::detector::Status;

/// An application and its argument, to run in the session's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub app: String,
    pub arg: Option<String>,
}

/// The variable naming the action to run when a machine's greeting has ended.
pub const MESSAGE_END_VARIABLE: &str = "amd_execute_on_message_end";

/// The variable naming the action to run when a machine shows itself after a `person` (or `unsure`) decision.
pub const LATE_MACHINE_VARIABLE: &str = "amd_execute_on_late_machine";

/// The variable naming the action for a status.
pub fn variable_for(status: Status) -> &'static str {
    match status {
        Status::Machine => "amd_execute_on_machine",
        Status::Person => "amd_execute_on_person",
        Status::Unsure => "amd_execute_on_unsure",
    }
}

/// Splits a value as the core does for its own execute_on variables: at the first space or
/// single `:` (`"transfer machine_found XML default"`, `"log:INFO hi"`), unless a `::` comes
/// first (`"transfer::machine_found XML default"`): then it is passed whole, and the core
/// splits it at the `::` when it runs it.
pub fn parse(value: &str) -> Option<Action> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let bytes = v.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let double_colon = b == b':' && bytes.get(i + 1) == Some(&b':');
        if double_colon {
            break;
        }
        if b.is_ascii_whitespace() || b == b':' {
            let arg = v[i + 1..].trim();
            return Some(Action { app: v[..i].to_string(), arg: Some(arg.to_string()).filter(|a| !a.is_empty()) });
        }
    }
    Some(Action { app: v.to_string(), arg: None })
}

/// Every action for `status`, in order, reading the channel's variables through `var`.
pub fn for_decision(status: Status, var: impl Fn(&str) -> Option<String>) -> Vec<Action> {
    let mut out = Vec::new();
    if let Some(a) = var(variable_for(status)).as_deref().and_then(parse) {
        out.push(a);
    }
    if status == Status::Machine {
        if let Some(app) = var("execute_on_machine_app").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
            let arg = var("execute_on_machine_arg").filter(|s| !s.trim().is_empty());
            out.push(Action { app, arg });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn machine_runs_both_kinds_in_order() {
        let v = [
            ("amd_execute_on_machine", "transfer machine_found XML default"),
            ("execute_on_machine_app", "hangup"),
            ("execute_on_machine_arg", "NORMAL_CLEARING"),
            ("amd_execute_on_person", "transfer person_found XML default"),
        ];
        let acts = for_decision(Status::Machine, vars(&v));
        assert_eq!(
            acts,
            vec![
                Action { app: "transfer".into(), arg: Some("machine_found XML default".into()) },
                Action { app: "hangup".into(), arg: Some("NORMAL_CLEARING".into()) },
            ]
        );
        assert_eq!(for_decision(Status::Person, vars(&v))[0].arg.as_deref(), Some("person_found XML default"));
        assert!(for_decision(Status::Unsure, vars(&v)).is_empty());
    }

    #[test]
    fn parse_forms() {
        assert_eq!(parse("   "), None);
        assert_eq!(parse("hangup"), Some(Action { app: "hangup".into(), arg: None }));
        assert_eq!(parse("log::INFO hi"), Some(Action { app: "log::INFO hi".into(), arg: None }));
        assert_eq!(
            parse("transfer::machine_found XML default"),
            Some(Action { app: "transfer::machine_found XML default".into(), arg: None })
        );
        assert_eq!(parse("log:INFO hi"), Some(Action { app: "log".into(), arg: Some("INFO hi".into()) }));
        assert_eq!(parse(" hangup:  "), Some(Action { app: "hangup".into(), arg: None }));
        assert_eq!(
            parse("transfer\tmachine_found XML default"),
            Some(Action { app: "transfer".into(), arg: Some("machine_found XML default".into()) })
        );
    }
}
