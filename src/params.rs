//! The detector's parameters: mod_com_amd's ten amd.conf.xml settings plus the few we add,
//! read from `<settings><param name value/>` lists and from voice_start's `k=v,k=v` data.

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

/// All durations are milliseconds of audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Mean absolute sample value under which a 10 ms block is silence (mod_conference's scale).
    pub silent_threshold: u32,
    /// Silence from answer that makes the call `person` / `silent-initial`.
    pub silent_initial: u32,
    /// Silence after a short greeting that makes the call `person` / `silent-after-intro`.
    pub silent_after_intro: u32,
    /// Silence that ends a talk segment (the Stop Talking event); shorter gaps stay inside it.
    pub silent_max_session: u32,
    /// A greeting longer than this makes the call `machine` / `max-intro`.
    pub noise_max_intro: u32,
    /// Shortest sound counted as a word; shorter ones are clicks and pops.
    pub noise_min_length: u32,
    /// Silence that separates two words.
    pub noise_inter_silence: u32,
    /// More words than this in the greeting make the call `machine` / `max-count`.
    pub noise_max_count: u32,
    /// With no decision by this time the call is `unsure` / `too-long`.
    pub total_analysis_time: u32,
    /// A single word longer than this makes the call `machine` / `max-word-length`; 0 turns the
    /// rule off. Our addition, for app_amd's maximum_word_length.
    pub noise_max_word_length: u32,
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
}

/// The defaults are the values that detect best on our development corpus (see README.md);
/// mod_com_amd's own page ships 256/4500/1000/200/1250/120/30/6/5000.
impl Default for Params {
    fn default() -> Self {
        Params {
            silent_threshold: 64,
            silent_initial: 4500,
            silent_after_intro: 750,
            silent_max_session: 200,
            noise_max_intro: 2700,
            noise_min_length: 120,
            noise_inter_silence: 30,
            noise_max_count: 6,
            total_analysis_time: 6000,
            noise_max_word_length: 0,
            debug: false,
            noise_floor_margin_db: 8,
            foreground_drop_db: 7,
            detect_beep: true,
            detect_message_end: false,
            message_end_silence: 1500,
            message_end_timeout: 30000,
        }
    }
}

enum Kind {
    Millis,
    Count,
    Level,
    Decibels,
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
    Spec { name: "debug", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "noise_floor_margin_db", kind: Kind::Decibels, min: 0, max: 60 },
    Spec { name: "foreground_drop_db", kind: Kind::Decibels, min: 0, max: 60 },
    Spec { name: "detect_beep", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "detect_message_end", kind: Kind::Flag, min: 0, max: 1 },
    Spec { name: "message_end_silence", kind: Kind::Millis, min: 100, max: MAX_MS },
    Spec { name: "message_end_timeout", kind: Kind::Millis, min: 100, max: MAX_MS },
];

impl Params {
    /// Every parameter name this detector accepts.
    pub fn names() -> impl Iterator<Item = &'static str> {
        SPECS.iter().map(|s| s.name)
    }

    /// Sets one parameter from its text form; on error nothing changes.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ParamError> {
        let fail = |reason: String| ParamError {
            key: key.to_string(),
            value: value.to_string(),
            reason,
        };
        let key_norm = key.trim();
        let spec = SPECS
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(key_norm))
            .ok_or_else(|| fail("unknown parameter".into()))?;
        let text = value.trim();
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
        }
        Ok(())
    }

    /// Applies voice_start's data: `k=v` pairs separated by commas, whitespace or newlines.
    /// Returns the pairs it refused; the good ones are applied either way.
    pub fn apply_pairs(&mut self, data: &str) -> Vec<ParamError> {
        let mut errors = Vec::new();
        for item in data.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            match item.split_once('=') {
                Some((k, v)) => {
                    if let Err(e) = self.set(k, v) {
                        errors.push(e);
                    }
                }
                None => errors.push(ParamError {
                    key: item.to_string(),
                    value: String::new(),
                    reason: "expected key=value".into(),
                }),
            }
        }
        errors
    }

    /// Applies `(name, value)` pairs, e.g. those read from amd.conf.xml.
    pub fn apply_settings<'a>(&mut self, settings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<ParamError> {
        settings
            .into_iter()
            .filter_map(|(k, v)| self.set(k, v).err())
            .collect()
    }

    /// The current value of a parameter in its text form (`None` for an unknown name).
    pub fn get(&self, key: &str) -> Option<String> {
        let spec = SPECS.iter().find(|s| s.name.eq_ignore_ascii_case(key.trim()))?;
        // Reading through the same table as writing: a copy is 13 small fields.
        Some(match self.clone().slot(spec.name) {
            Slot::Number(v) => v.to_string(),
            Slot::Flag(v) => v.to_string(),
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
            "debug" => Slot::Flag(&mut self.debug),
            "detect_beep" => Slot::Flag(&mut self.detect_beep),
            "detect_message_end" => Slot::Flag(&mut self.detect_message_end),
            "message_end_silence" => Slot::Number(&mut self.message_end_silence),
            "message_end_timeout" => Slot::Number(&mut self.message_end_timeout),
            _ => unreachable!("every spec name has a field"),
        }
    }
}

enum Slot<'a> {
    Number(&'a mut u32),
    Flag(&'a mut bool),
}

fn unit(kind: &Kind) -> &'static str {
    match kind {
        Kind::Millis => "(ms)",
        Kind::Count => "(count)",
        Kind::Level => "(mean |sample|)",
        Kind::Decibels => "(dB)",
        Kind::Flag => "",
    }
}

fn parse_flag(text: &str) -> Option<u32> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "enabled" => Some(1),
        "0" | "false" | "no" | "off" | "disabled" => Some(0),
        _ => None,
    }
}

/// Reads the `<param name=".." value=".."/>` entries of every `<settings>` element of an
/// amd.conf.xml document, in document order.
pub fn settings_from_xml(xml: &str) -> Result<Vec<(String, String)>, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("amd.conf.xml is not well-formed XML: {e}"))?;
    let mut out = Vec::new();
    for settings in doc.descendants().filter(|n| n.has_tag_name("settings")) {
        for param in settings.children().filter(|n| n.has_tag_name("param")) {
            let name = param.attribute("name");
            let value = param.attribute("value");
            match (name, value) {
                (Some(n), Some(v)) => out.push((n.to_string(), v.to_string())),
                _ => {
                    let pos = doc.text_pos_at(param.range().start);
                    return Err(format!(
                        "amd.conf.xml line {}: <param> needs both name and value attributes",
                        pos.row
                    ));
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
