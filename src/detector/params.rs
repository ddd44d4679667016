//! The detector's parameters: mod_com_amd's ten amd.conf.xml settings plus the few we add,
//! read from `<settings><param name value/>` lists and from voice_start's `k=v,k=v` data.
//! Asterisk app_amd's names are accepted too (see [`ALIASES`]), so settings written for app_amd
//! (or for the hosted APIs that speak its vocabulary) keep their meaning.

use std::fmt;

/// A bad setting. The caller keeps the previous value and goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub key: String,
    pub value: String,
    pub reason: String,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad AMD parameter {}={:?}: {}", self.key, self.value, self.reason)
    }
}

impl std::error::Error for ParamError {}

/// What decides between `person` and `machine` once somebody has spoken (tones decide alike
/// either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionMode {
    /// The learned model over the call's timeline (model.rs).
    Model,
    /// mod_com_amd's timers: silent_after_intro, noise_max_intro, noise_max_count (and
    /// noise_max_word_length).
    Rules,
}

impl DecisionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionMode::Model => "model",
            DecisionMode::Rules => "rules",
        }
    }
}

/// The timers mod_com_amd decides with: a configuration (amd.conf.xml, or voice_start's data)
/// that sets one asks for mod_com_amd's behaviour, so it selects `decision=rules` unless it
/// names `decision` too (see [`Params::apply_configuration`]).
pub const RULE_TIMERS: [&str; 4] = ["silent_after_intro", "noise_max_intro", "noise_max_count", "noise_max_word_length"];

/// All durations are milliseconds of audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Mean absolute sample value under which a 10 ms block is silence (mod_conference's scale).
    pub silent_threshold: u32,
    /// Silence from answer (from the end of a ring tone still on the line after it) that makes
    /// the call `person` / `silent-initial` (`machine` with `silent_initial_machine`).
    pub silent_initial: u32,
    /// Silence after a short greeting that makes the call `person` / `silent-after-intro`.
    pub silent_after_intro: u32,
    /// Silence that ends a talk segment (the Stop Talking event); shorter gaps stay inside it.
    pub silent_max_session: u32,
    /// A greeting this long or longer makes the call `machine` / `max-intro`.
    pub noise_max_intro: u32,
    /// Shortest sound counted as a word; shorter ones are clicks and pops.
    pub noise_min_length: u32,
    /// Silence that separates two words.
    pub noise_inter_silence: u32,
    /// More words than this in the greeting make the call `machine` / `max-count`.
    pub noise_max_count: u32,
    /// With no decision by this time the call is `unsure` / `too-long`.
    pub total_analysis_time: u32,
    /// A single word this long or longer makes the call `machine` / `max-word-length`; 0 turns the
    /// rule off. Our addition, for app_amd's maximum_word_length.
    pub noise_max_word_length: u32,
    /// Our addition: `silent-initial` is `machine`, as app_amd's INITIALSILENCE is, instead of
    /// mod_com_amd's `person`. app_amd's initial_silence name sets it.
    pub silent_initial_machine: bool,
    /// Log each talking edge and the decision.
    pub debug: bool,
    /// Our addition: dB above the tracked background level a block must reach to count as sound
    /// (0 turns the adaptive floor off, leaving silent_threshold alone in charge).
    pub noise_floor_margin_db: u32,
    /// Our addition: once a greeting has started, sound this many dB under the talker's level
    /// is background (TV, other voices), not talk (0 turns this off).
    pub foreground_drop_db: u32,
    /// Our addition: a steady tone right after the greeting means a voicemail beep, so `machine`.
    pub detect_beep: bool,
    /// Our addition: after a `machine` decision, keep listening until the greeting ends (a beep,
    /// `message_end_silence` of quiet, or `message_end_timeout`).
    pub detect_message_end: bool,
    /// Quiet after the greeting that ends it when no beep comes.
    pub message_end_silence: u32,
    /// Give up looking for the end of the greeting this long after the start of detection.
    pub message_end_timeout: u32,
    /// Our addition: after a `person` (or `unsure`) decision, keep listening for a beep, a fax tone or SIT
    /// for `late_machine_window` ms: a machine that could not be told from a person in time.
    pub detect_late_machine: bool,
    /// How long after a `person` (or `unsure`) decision to keep listening with `detect_late_machine`.
    pub late_machine_window: u32,
    /// Our addition: the learned model or mod_com_amd's timers (see [`DecisionMode`]).
    pub decision: DecisionMode,
    /// Our addition: with `decision=model`, the model's P(machine), in percent, from which a
    /// timer's `machine` verdict stands, in place of the model's own `machine_at` (0: the
    /// model's own). Higher: fewer people called machines, fewer and later machines.
    pub machine_confidence: u32,
}

/// The defaults were first chosen on our development corpus and checked since on fresh kit draws:
/// moving silent_threshold, noise_min_length, noise_inter_silence, noise_floor_margin_db or
/// foreground_drop_db either way trades people called machines against machines or beeps found
/// (docs/accuracy.md). mod_com_amd's own page ships 256/4500/1000/200/1250/120/30/6/5000.
impl Default for Params {
    fn default() -> Self {
        Params {
            silent_threshold: 64,
            silent_initial: 4500,
            silent_after_intro: 750,
            silent_max_session: 200,
            noise_max_intro: 2900,
            noise_min_length: 120,
            noise_inter_silence: 30,
            noise_max_count: 8,
            total_analysis_time: 6000,
            noise_max_word_length: 0,
            silent_initial_machine: false,
            debug: false,
            noise_floor_margin_db: 8,
            foreground_drop_db: 7,
            detect_beep: true,
            detect_message_end: false,
            message_end_silence: 1500,
            message_end_timeout: 30000,
            detect_late_machine: false,
            late_machine_window: 10000,
            decision: DecisionMode::Model,
            machine_confidence: 0,
        }
    }
}

enum Kind {
    Decision,
    Millis,
    Count,
    Level,
    Decibels,
    Percent,
    Flag,
}

struct Spec {
    name: &'static str,
    kind: Kind,
    min: u32,
    max: u32,
}

const MAX_MS: u32 = 600_000;

const SPECS: &[Spec] = &[
    Spec { name: "silent_threshold", kind: Kind::Level, min: 0, max: 32767 },
    Spec { name: "silent_initial", kind: Kind::Millis, min: 10, max: MAX_MS },
    Spec { name: "silent_after_intro", kind: Kind::Millis, min: 10, max: MAX_MS },
    Spec { name: "silent_max_session", kind: Kind::Millis, min: 10, max: MAX_MS },
    Spec { name: "noise_max_intro", kind: Kind::Millis, min: 10, max: MAX_MS },
    Spec { name: "noise_min_length", kind: Kind::Millis, min: 0, max: MAX_MS },
    Spec { name: "noise_inter_silence", kind: Kind::Millis, min: 0, max: MAX_MS },
    Spec { name: "noise_max_count", kind: Kind::Count, min: 1, max: 10_000 },
    Spec { name: "total_analysis_time", kind: Kind::Millis, min: 100, max: MAX_MS },
    Spec { name: "noise_max_word_length", kind: Kind::Millis, min: 0, max: MAX_MS },
    Spec { name: "silent_initial_machine", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "debug", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "noise_floor_margin_db", kind: Kind::Decibels, min: 0, max: 60 },
    Spec { name: "foreground_drop_db", kind: Kind::Decibels, min: 0, max: 60 },
    Spec { name: "detect_beep", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "detect_message_end", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "message_end_silence", kind: Kind::Millis, min: 100, max: MAX_MS },
    Spec { name: "message_end_timeout", kind: Kind::Millis, min: 100, max: MAX_MS },
    Spec { name: "detect_late_machine", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "late_machine_window", kind: Kind::Millis, min: 100, max: MAX_MS },
    Spec { name: "decision", kind: Kind::Decision, min: 0, max: 1 },
    Spec { name: "machine_confidence", kind: Kind::Percent, min: 0, max: 99 },
];

/// One of Asterisk app_amd's parameter names and the parameter of ours that means the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    /// As app_amd's amd.conf or its AMD() application's arguments spell it.
    pub name: &'static str,
    /// Ours, set to the same value.
    pub target: &'static str,
    /// Others of ours the name also sets, to keep app_amd's meaning.
    pub implies: &'static [(&'static str, &'static str)],
}

const fn alias(name: &'static str, target: &'static str) -> Alias {
    Alias { name, target, implies: &[] }
}

/// app_amd's names: its amd.conf keys and the camelCase argument names of its AMD() application
/// (which hosted APIs such as FlexML's Amd verb pass). Each value carries over unchanged: app_amd
/// uses the same units (ms of audio, words, mean |sample| on 0..32767), and since Asterisk 14 its
/// maximum_number_of_words means "more than this many", as noise_max_count does. app_amd's initial
/// silence is a machine, so initial_silence also sets silent_initial_machine.
pub const ALIASES: &[Alias] = &[
    Alias { name: "initial_silence", target: "silent_initial", implies: &[("silent_initial_machine", "true")] },
    Alias { name: "initialSilence", target: "silent_initial", implies: &[("silent_initial_machine", "true")] },
    alias("greeting", "noise_max_intro"),
    alias("after_greeting_silence", "silent_after_intro"),
    alias("afterGreetingSilence", "silent_after_intro"),
    alias("totalAnalysisTime", "total_analysis_time"),
    alias("min_word_length", "noise_min_length"),
    alias("minimumWordLength", "noise_min_length"),
    alias("between_words_silence", "noise_inter_silence"),
    alias("betweenWordsSilence", "noise_inter_silence"),
    alias("maximum_number_of_words", "noise_max_count"),
    alias("maximumNumberOfWords", "noise_max_count"),
    alias("maximum_word_length", "noise_max_word_length"),
    alias("maximumWordLength", "noise_max_word_length"),
    alias("silence_threshold", "silent_threshold"),
    alias("silenceThreshold", "silent_threshold"),
];

fn find_spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

fn find_alias(name: &str) -> Option<&'static Alias> {
    ALIASES.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// The known name (ours or an alias) a mistyped one is closest to, when it is close: at most a
/// third of its letters edited.
fn nearest_name(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    let known = SPECS.iter().map(|s| s.name).chain(ALIASES.iter().map(|a| a.name));
    let (best, distance) = known.map(|k| (k, edit_distance(&name, &k.to_ascii_lowercase()))).min_by_key(|&(_, d)| d)?;
    (distance > 0 && distance * 3 <= name.len().max(3)).then_some(best)
}

/// Levenshtein distance: inserted, removed and replaced letters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

impl Params {
    /// Our own parameter names (app_amd's are in [`ALIASES`]).
    pub fn names() -> impl Iterator<Item = &'static str> {
        SPECS.iter().map(|s| s.name)
    }

    /// Sets one parameter from its text form, by our name or an app_amd alias; on error nothing
    /// changes and the error names the key as written.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ParamError> {
        let key_norm = key.trim();
        if let Some(alias) = find_alias(key_norm) {
            let mut next = self.clone();
            next.set_spec(find_spec(alias.target).expect("alias targets are specs"), key, value)?;
            for (name, implied) in alias.implies {
                next.set_spec(find_spec(name).expect("implied names are specs"), name, implied)
                    .expect("implied values are valid");
            }
            *self = next;
            return Ok(());
        }
        match find_spec(key_norm) {
            Some(spec) => self.set_spec(spec, key, value),
            None => {
                let reason = match nearest_name(key_norm) {
                    Some(near) => format!("unknown parameter (did you mean {near}?)"),
                    None => "unknown parameter".into(),
                };
                Err(ParamError { key: key.to_string(), value: value.to_string(), reason })
            }
        }
    }

    fn set_spec(&mut self, spec: &Spec, key: &str, value: &str) -> Result<(), ParamError> {
        let fail = |reason: String| ParamError {
            key: key.to_string(),
            value: value.to_string(),
            reason,
        };
        let text = value.trim();
        if let Kind::Decision = spec.kind {
            self.decision = match text.to_ascii_lowercase().as_str() {
                "model" => DecisionMode::Model,
                "rules" => DecisionMode::Rules,
                _ => return Err(fail("expected model or rules".into())),
            };
            return Ok(());
        }
        let number = match spec.kind {
            Kind::Flag => parse_flag(text).ok_or_else(|| fail("expected true/false, yes/no, on/off or 1/0".into()))?,
            _ => {
                let n: u64 = text
                    .parse()
                    .map_err(|_| fail(format!("expected a whole number {}", unit(&spec.kind))))?;
                if n < u64::from(spec.min) || n > u64::from(spec.max) {
                    return Err(fail(format!("out of range {}..={} {}", spec.min, spec.max, unit(&spec.kind))));
                }
                n as u32
            }
        };
        match self.slot(spec.name) {
            Slot::Number(field) => *field = number,
            Slot::Flag(field) => *field = number != 0,
            Slot::Decision(_) => unreachable!("set above"),
        }
        Ok(())
    }

    /// Applies voice_start's data: `k=v` pairs separated by commas, whitespace or newlines.
    /// Returns the pairs it refused; the good ones are applied either way.
    /// Spaces around an `=` belong to its pair (`silent_threshold = 96`), not between pairs.
    pub fn apply_pairs(&mut self, data: &str) -> Vec<ParamError> {
        let mut errors = Vec::new();
        for item in pairs_of(data) {
            if let Err(e) = item.and_then(|(k, v)| self.set(&k, &v)) {
                errors.push(e);
            }
        }
        errors
    }

    /// Applies a configuration's pairs (amd.conf.xml's settings, or voice_start's data as
    /// `(name, value)`) as [`Params::apply_settings`] does; and where they set one of
    /// [`RULE_TIMERS`] without naming `decision`, selects `decision=rules`: a configuration
    /// written for mod_com_amd keeps mod_com_amd's behaviour.
    pub fn apply_configuration<'a>(&mut self, settings: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> Vec<ParamError> {
        let canonical = |key: &str| {
            let key = key.trim();
            find_spec(key).map(|s| s.name).or_else(|| find_alias(key).map(|a| a.target))
        };
        let names: Vec<Option<&str>> = settings.clone().into_iter().map(|(k, _)| canonical(k)).collect();
        let errors = self.apply_settings(settings);
        let names_decision = names.contains(&Some("decision"));
        if !names_decision && names.iter().flatten().any(|n| RULE_TIMERS.contains(n)) {
            self.decision = DecisionMode::Rules;
        }
        errors
    }

    /// voice_start's `k=v,k=v` data as a configuration (see [`Params::apply_configuration`]).
    pub fn apply_configuration_pairs(&mut self, data: &str) -> Vec<ParamError> {
        let (pairs, malformed): (Vec<_>, Vec<_>) = pairs_of(data).into_iter().partition(Result::is_ok);
        let pairs: Vec<(String, String)> = pairs.into_iter().flatten().collect();
        let mut errors = self.apply_configuration(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        errors.extend(malformed.into_iter().filter_map(Result::err));
        errors
    }

    /// Applies `(name, value)` pairs, e.g. those read from amd.conf.xml.
    pub fn apply_settings<'a>(&mut self, settings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<ParamError> {
        settings
            .into_iter()
            .filter_map(|(k, v)| self.set(k, v).err())
            .collect()
    }

    /// The current value of a parameter in its text form, by our name or an app_amd alias
    /// (`None` for an unknown name).
    pub fn get(&self, key: &str) -> Option<String> {
        let key = key.trim();
        let spec = find_spec(key).or_else(|| find_alias(key).and_then(|a| find_spec(a.target)))?;
        // Reading through the same table as writing: a copy is a handful of small fields.
        Some(match self.clone().slot(spec.name) {
            Slot::Number(v) => v.to_string(),
            Slot::Flag(v) => v.to_string(),
            Slot::Decision(v) => v.as_str().to_string(),
        })
    }

    /// Where a parameter lives: the one name-to-field table behind `set` and `get`.
    fn slot(&mut self, name: &str) -> Slot<'_> {
        match name {
            "silent_threshold" => Slot::Number(&mut self.silent_threshold),
            "silent_initial" => Slot::Number(&mut self.silent_initial),
            "silent_after_intro" => Slot::Number(&mut self.silent_after_intro),
            "silent_max_session" => Slot::Number(&mut self.silent_max_session),
            "noise_max_intro" => Slot::Number(&mut self.noise_max_intro),
            "noise_min_length" => Slot::Number(&mut self.noise_min_length),
            "noise_inter_silence" => Slot::Number(&mut self.noise_inter_silence),
            "noise_max_count" => Slot::Number(&mut self.noise_max_count),
            "total_analysis_time" => Slot::Number(&mut self.total_analysis_time),
            "noise_max_word_length" => Slot::Number(&mut self.noise_max_word_length),
            "noise_floor_margin_db" => Slot::Number(&mut self.noise_floor_margin_db),
            "foreground_drop_db" => Slot::Number(&mut self.foreground_drop_db),
            "silent_initial_machine" => Slot::Flag(&mut self.silent_initial_machine),
            "debug" => Slot::Flag(&mut self.debug),
            "detect_beep" => Slot::Flag(&mut self.detect_beep),
            "detect_message_end" => Slot::Flag(&mut self.detect_message_end),
            "message_end_silence" => Slot::Number(&mut self.message_end_silence),
            "message_end_timeout" => Slot::Number(&mut self.message_end_timeout),
            "detect_late_machine" => Slot::Flag(&mut self.detect_late_machine),
            "late_machine_window" => Slot::Number(&mut self.late_machine_window),
            "decision" => Slot::Decision(&mut self.decision),
            "machine_confidence" => Slot::Number(&mut self.machine_confidence),
            _ => unreachable!("every spec name has a field"),
        }
    }
}

enum Slot<'a> {
    Number(&'a mut u32),
    Flag(&'a mut bool),
    Decision(&'a mut DecisionMode),
}

fn unit(kind: &Kind) -> &'static str {
    match kind {
        Kind::Decision => "(model or rules)",
        Kind::Millis => "(ms)",
        Kind::Count => "(count)",
        Kind::Level => "(mean |sample|)",
        Kind::Decibels => "(dB)",
        Kind::Percent => "(percent; 0: the model's own)",
        Kind::Flag => "",
    }
}

/// voice_start's data split into its `k=v` pairs, in order (commas, whitespace or newlines
/// between pairs; spaces around an `=` belong to its pair); an item with no `=` is an error.
fn pairs_of(data: &str) -> Vec<Result<(String, String), ParamError>> {
    tighten_equals(data)
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(ParamError { key: item.to_string(), value: String::new(), reason: "expected key=value".into() }),
        })
        .collect()
}

/// `data` with the whitespace on either side of each `=` taken out.
fn tighten_equals(data: &str) -> String {
    let mut out = String::with_capacity(data.len());
    let mut after_equals = false;
    for c in data.chars() {
        if c == '=' {
            out.truncate(out.trim_end().len());
            after_equals = true;
            out.push(c);
        } else if after_equals && c.is_whitespace() {
            continue;
        } else {
            after_equals = false;
            out.push(c);
        }
    }
    out
}

fn parse_flag(text: &str) -> Option<u32> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "enabled" => Some(1),
        "0" | "false" | "no" | "off" | "disabled" => Some(0),
        _ => None,
    }
}

/// The name of our configuration in FreeSWITCH's XML (`<configuration name="amd.conf">`).
pub const CONFIG_NAME: &str = "amd.conf";

/// Reads the `<param name=".." value=".."/>` entries of the `<settings>` of an amd.conf.xml, in
/// document order. A document with `<configuration>` elements (amd.conf.xml itself, or a whole
/// freeswitch.xml) is read only inside `<configuration name="amd.conf">`: another module's
/// settings would otherwise pass for ours, each of its keys an "unknown parameter".
pub fn settings_from_xml(xml: &str) -> Result<Vec<(String, String)>, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("amd.conf.xml is not well-formed XML: {e}"))?;
    let configurations: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.has_tag_name("configuration")).collect();
    let scopes: Vec<roxmltree::Node> = if configurations.is_empty() {
        vec![doc.root_element()]
    } else {
        configurations.iter().copied().filter(|n| n.attribute("name").is_some_and(|name| name.eq_ignore_ascii_case(CONFIG_NAME))).collect()
    };
    if scopes.is_empty() {
        let names: Vec<String> = configurations.iter().map(|n| format!("{:?}", n.attribute("name").unwrap_or(""))).collect();
        return Err(format!("no <configuration name=\"{CONFIG_NAME}\"> in this XML (it has {})", names.join(", ")));
    }
    let mut out = Vec::new();
    for scope in scopes {
        for settings in scope.descendants().filter(|n| n.has_tag_name("settings")) {
            for param in settings.children().filter(|n| n.has_tag_name("param")) {
                match (param.attribute("name"), param.attribute("value")) {
                    (Some(n), Some(v)) => out.push((n.to_string(), v.to_string())),
                    _ => {
                        let pos = doc.text_pos_at(param.range().start);
                        return Err(format!("amd.conf.xml line {}: <param> needs both name and value attributes", pos.row));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_suggests_the_nearest_known_one() {
        let mut p = Params::default();
        let e = p.set("silent_treshold", "96").unwrap_err();
        assert!(e.to_string().contains("did you mean silent_threshold?"), "{e}");
        let e = p.set("maximumWordLenght", "4").unwrap_err();
        assert!(e.to_string().contains("did you mean maximumWordLength?"), "{e}");
        let e = p.set("colour", "red").unwrap_err();
        assert!(e.to_string().contains("unknown parameter") && !e.to_string().contains("did you mean"), "{e}");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_configuration_that_sets_the_timers_selects_the_rules_unless_it_names_decision() {
        let decided_by = |data: &str| {
            let mut p = Params::default();
            assert!(p.apply_configuration_pairs(data).is_empty(), "{data}");
            p.decision
        };
        assert_eq!(Params::default().decision, DecisionMode::Model);
        assert_eq!(decided_by("silent_threshold=96,detect_message_end=true"), DecisionMode::Model);
        for timer in RULE_TIMERS {
            assert_eq!(decided_by(&format!("{timer}=2000")), DecisionMode::Rules, "{timer}");
        }
        // app_amd's names for the same timers.
        assert_eq!(decided_by("greeting=2000"), DecisionMode::Rules);
        assert_eq!(decided_by("maximum_number_of_words=4"), DecisionMode::Rules);
        // Named, `decision` wins wherever it stands.
        assert_eq!(decided_by("decision=model,noise_max_intro=2000"), DecisionMode::Model);
        assert_eq!(decided_by("noise_max_intro=2000,decision=model"), DecisionMode::Model);
        assert_eq!(decided_by("decision=rules"), DecisionMode::Rules);
        // Plain pairs (the parser itself) never switch: a stored value always reads back the same.
        let mut p = Params::default();
        assert!(p.apply_pairs("noise_max_intro=2000").is_empty());
        assert_eq!(p.decision, DecisionMode::Model);
        let mut p = Params::default();
        let errors = p.apply_configuration_pairs("decision=maybe,oops");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].to_string().contains("expected model or rules"), "{}", errors[0]);
        assert_eq!(p.get("decision").as_deref(), Some("model"));
    }

    #[test]
    fn voice_start_data_with_whitespace_and_newlines() {
        let mut p = Params::default();
        let errors = p.apply_pairs(
            "silent_threshold=96,\nsilent_initial=3500,\n  silent_after_intro=1500, noise_max_count=10,\ndebug=1",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((p.silent_threshold, p.silent_initial, p.silent_after_intro, p.noise_max_count), (96, 3500, 1500, 10));
        assert!(p.debug);
    }

    #[test]
    fn spaces_around_the_equals_sign_belong_to_the_pair() {
        let mut p = Params::default();
        let errors = p.apply_pairs("silent_threshold = 96, silent_initial =3500\nnoise_max_count=  10 debug=1");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((p.silent_threshold, p.silent_initial, p.noise_max_count), (96, 3500, 10));
        assert!(p.debug);
        let errors = p.apply_pairs("silent_after_intro = , noise_min_length = 100");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].key.as_str(), errors[0].value.as_str()), ("silent_after_intro", ""));
        assert_eq!(p.noise_min_length, 100);
    }

    #[test]
    fn bad_values_name_key_and_value_and_keep_the_old_value() {
        let mut p = Params::default();
        let errors = p.apply_pairs("silent_initial=abc,bogus=1,noise_max_count=0,total_analysis_time=999999999,justakey,silent_after_intro=900");
        let keys: Vec<(&str, &str)> = errors.iter().map(|e| (e.key.as_str(), e.value.as_str())).collect();
        assert_eq!(
            keys,
            vec![("silent_initial", "abc"), ("bogus", "1"), ("noise_max_count", "0"), ("total_analysis_time", "999999999"), ("justakey", "")]
        );
        assert_eq!(p.silent_initial, Params::default().silent_initial);
        assert_eq!(p.silent_after_intro, 900, "good pairs still apply");
        let text = errors[0].to_string();
        assert!(text.contains("silent_initial") && text.contains("abc"), "{text}");
        assert!(p.set("debug", "maybe").is_err());
    }

    #[test]
    fn reads_settings_from_xml() {
        let xml = r#"<configuration name="amd.conf" description="AMD">
          <settings>
            <!-- a comment -->
            <param name="silent_threshold" value="128"/>
            <param name="max_channels" value="50"/>
          </settings>
        </configuration>"#;
        let s = settings_from_xml(xml).unwrap();
        assert_eq!(s, vec![("silent_threshold".to_string(), "128".to_string()), ("max_channels".to_string(), "50".to_string())]);
        assert!(settings_from_xml("<settings><param name='x'/></settings>").unwrap_err().contains("line 1"));
        assert!(settings_from_xml("<settings>").is_err());
    }

    #[test]
    fn reads_only_amd_conf_out_of_a_whole_configuration() {
        let whole = r#"<document type="freeswitch/xml"><section name="configuration">
          <configuration name="avmd.conf"><settings><param name="debug" value="0"/><param name="sample_n_continuous_streak" value="3"/></settings></configuration>
          <configuration name="amd.conf"><settings><param name="silent_threshold" value="96"/></settings></configuration>
        </section></document>"#;
        assert_eq!(settings_from_xml(whole).unwrap(), vec![("silent_threshold".to_string(), "96".to_string())]);
        let other = r#"<configuration name="avmd.conf"><settings><param name="debug" value="0"/></settings></configuration>"#;
        let e = settings_from_xml(other).unwrap_err();
        assert!(e.contains("no <configuration name=\"amd.conf\">") && e.contains("\"avmd.conf\""), "{e}");
    }

    #[test]
    fn app_amd_names_set_ours() {
        // The FlexML screening page's Amd verb, in voice_start's syntax.
        let mut p = Params::default();
        let errors = p.apply_pairs("initialSilence=5000,greeting=2000,afterGreetingSilence=500,totalAnalysisTime=8000");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((p.silent_initial, p.noise_max_intro, p.silent_after_intro, p.total_analysis_time), (5000, 2000, 500, 8000));
        assert!(p.silent_initial_machine, "app_amd's initial silence is a machine");
        // app_amd's amd.conf keys.
        let mut q = Params::default();
        let errors = q.apply_settings([
            ("initial_silence", "2500"),
            ("after_greeting_silence", "800"),
            ("min_word_length", "100"),
            ("between_words_silence", "50"),
            ("maximum_number_of_words", "3"),
            ("maximum_word_length", "5000"),
            ("silence_threshold", "256"),
            ("total_analysis_time", "5000"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            (q.silent_initial, q.silent_after_intro, q.noise_min_length, q.noise_inter_silence, q.noise_max_count),
            (2500, 800, 100, 50, 3)
        );
        assert_eq!((q.noise_max_word_length, q.silent_threshold, q.total_analysis_time), (5000, 256, 5000));
        assert!(q.silent_initial_machine);
        // Our own name leaves mod_com_amd's meaning alone.
        let mut r = Params::default();
        r.set("silent_initial", "5000").unwrap();
        assert!(!r.silent_initial_machine);
    }

    #[test]
    fn every_alias_carries_its_value_to_its_target() {
        for a in ALIASES {
            assert!(find_spec(a.target).is_some(), "{} -> {}", a.name, a.target);
            assert!(find_spec(a.name).is_none(), "{} is one of ours too", a.name);
            let mut p = Params::default();
            p.set(a.name, "1234").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.get(a.target).as_deref(), Some("1234"), "{}", a.name);
            assert_eq!(p.get(a.name), p.get(a.target), "get by the alias");
            assert_eq!(p.get(&a.name.to_ascii_uppercase()), p.get(a.target), "names are case-blind");
        }
    }

    #[test]
    fn bad_values_under_an_alias_name_the_key_as_written_and_change_nothing() {
        let mut p = Params::default();
        let errors = p.apply_pairs("initialSilence=soon,maximum_number_of_words=0,greeting=-1");
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, vec!["initialSilence", "maximum_number_of_words", "greeting"]);
        assert!(errors[0].to_string().contains("initialSilence") && errors[0].to_string().contains("soon"), "{}", errors[0]);
        assert_eq!(p, Params::default(), "a refused alias sets nothing, not even what it implies");
    }

    #[test]
    fn get_round_trips() {
        let p = Params::default();
        for name in Params::names() {
            let mut q = Params { silent_threshold: 7, debug: !p.debug, ..p.clone() };
            q.set(name, &p.get(name).unwrap()).unwrap();
        }
        assert_eq!(p.get("detect_beep").as_deref(), Some("true"));
        assert_eq!(p.get("nope"), None);
    }
}
