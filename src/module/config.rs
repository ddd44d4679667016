//! amd.conf.xml: the detector's parameters plus the module's own keys.

use std::sync::Arc;

use crate::detector::{settings_from_xml, BeepModel, DecisionModel, Models, Params};

/// The module's own amd.conf.xml keys (everything else goes to the detector's [`Params`]).
pub const MAX_CHANNELS: &str = "max_channels";
/// How many calls may run detection at once when amd.conf.xml does not say.
pub const DEFAULT_MAX_CHANNELS: usize = 1000;
const MAX_CHANNELS_LIMIT: usize = 1_000_000;
/// The module's key for an operator's own decision model (a file `amd train` wrote).
pub const DECISION_MODEL: &str = "decision_model";
/// The module's key for an operator's own beep model (a file `amd train-beep` wrote).
pub const BEEP_MODEL: &str = "beep_model";
/// The module's key for a folder where every call's audio, as the detector heard it, is saved
/// as <uuid>.wav.
pub const RECORD_DIR: &str = "record_dir";

#[derive(Debug, Clone, PartialEq)]
pub struct ModuleConfig {
    /// Defaults for every call; voice_start's data overrides them per call.
    pub params: Params,
    /// Channel slots: at most this many calls run detection at once.
    pub max_channels: usize,
    /// The model `decision=model` decides with: the built-in one unless `decision_model` names
    /// a good file.
    pub model: Arc<DecisionModel>,
    /// The file it came from, when not the built-in one.
    pub model_file: Option<String>,
    /// The model that judges whether a tone is a greeting's beep: the built-in one unless
    /// `beep_model` names a good file.
    pub beep_model: Arc<BeepModel>,
    /// The file it came from, when not the built-in one.
    pub beep_model_file: Option<String>,
    /// Save every call's audio, as the detector heard it, in this folder (see recorder.rs).
    pub record_dir: Option<String>,
}

impl Default for ModuleConfig {
    fn default() -> Self {
        ModuleConfig {
            params: Params::default(),
            max_channels: DEFAULT_MAX_CHANNELS,
            model: DecisionModel::builtin(),
            model_file: None,
            beep_model: BeepModel::builtin(),
            beep_model_file: None,
            record_dir: None,
        }
    }
}

impl ModuleConfig {
    /// The models a call decides with.
    pub fn models(&self) -> Models {
        Models { decision: self.model.clone(), beep: self.beep_model.clone() }
    }

    /// Reads `<configuration name="amd.conf"><settings><param name value/>...` text. Bad values
    /// keep their defaults; every problem comes back as a message naming the key and the value.
    pub fn from_xml(xml: &str) -> (ModuleConfig, Vec<String>) {
        match settings_from_xml(xml) {
            Ok(settings) => ModuleConfig::from_settings(&settings),
            Err(e) => (ModuleConfig::default(), vec![format!("{e}; using the defaults")]),
        }
    }

    /// Applies amd.conf.xml's `(name, value)` pairs: the module's own keys here, the rest to the
    /// detector's [`Params`]. Bad values keep their defaults and come back as messages.
    pub fn from_settings(settings: &[(String, String)]) -> (ModuleConfig, Vec<String>) {
        let mut cfg = ModuleConfig::default();
        let mut problems = Vec::new();
        let mut detector_settings = Vec::new();
        for (key, value) in settings {
            if key.trim().eq_ignore_ascii_case(MAX_CHANNELS) {
                match value.trim().parse::<usize>() {
                    Ok(n) if n <= MAX_CHANNELS_LIMIT => cfg.max_channels = n,
                    _ => problems.push(format!(
                        "bad amd.conf.xml value {key}={value:?}: expected a whole number 0..={MAX_CHANNELS_LIMIT}; keeping {}",
                        cfg.max_channels
                    )),
                }
            } else if key.trim().eq_ignore_ascii_case(RECORD_DIR) {
                let dir = value.trim();
                if std::path::Path::new(dir).is_dir() {
                    cfg.record_dir = Some(dir.to_string());
                } else {
                    problems.push(format!("amd.conf.xml: {RECORD_DIR}={value:?}: not a folder; calls are not recorded"));
                }
            } else if key.trim().eq_ignore_ascii_case(DECISION_MODEL) {
                match load_model(value.trim()) {
                    Ok(model) => {
                        cfg.model = Arc::new(model);
                        cfg.model_file = Some(value.trim().to_string());
                    }
                    Err(e) => problems.push(format!("amd.conf.xml: {DECISION_MODEL}={value:?}: {e}; keeping the built-in model")),
                }
            } else if key.trim().eq_ignore_ascii_case(BEEP_MODEL) {
                match load_beep_model(value.trim()) {
                    Ok(model) => {
                        cfg.beep_model = Arc::new(model);
                        cfg.beep_model_file = Some(value.trim().to_string());
                    }
                    Err(e) => problems.push(format!("amd.conf.xml: {BEEP_MODEL}={value:?}: {e}; keeping the built-in beep model")),
                }
            } else {
                detector_settings.push((key.as_str(), value.as_str()));
            }
        }
        for e in cfg.params.apply_configuration(detector_settings) {
            let keep = cfg.params.get(&e.key).map(|v| format!("; keeping {}={v}", e.key.trim())).unwrap_or_default();
            problems.push(format!("amd.conf.xml: {e}{keep}"));
        }
        (cfg, problems)
    }
}

/// Reads and checks a decision model file.
pub fn load_model(path: &str) -> Result<DecisionModel, String> {
    DecisionModel::from_json(&read_model_file(path)?)
}

/// Reads and checks a beep model file.
pub fn load_beep_model(path: &str) -> Result<BeepModel, String> {
    BeepModel::from_json(&read_model_file(path)?)
}

fn read_model_file(path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err("no file named".into());
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_amd_conf_xml_holds_exactly_the_defaults() {
        let xml = include_str!("../../conf/autoload_configs/amd.conf.xml");
        let settings = settings_from_xml(xml).unwrap();
        // Every key is set in the file, so equal-to-default means the file says the defaults.
        for name in Params::names().chain([MAX_CHANNELS]) {
            assert!(settings.iter().any(|(k, _)| k == name), "amd.conf.xml lacks {name}");
        }
        let (cfg, problems) = ModuleConfig::from_settings(&settings);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg, ModuleConfig::default());
    }

    #[test]
    fn decision_model_loads_a_model_file_and_a_bad_one_keeps_the_built_in() {
        let dir = std::env::temp_dir().join(format!("amd-config-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut own = (*DecisionModel::builtin()).clone();
        own.policy.machine_at = 0.5;
        let good = dir.join("good.json");
        std::fs::write(&good, own.to_json()).unwrap();
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{\"format\": \"something else\"}").unwrap();
        let read = |path: &std::path::Path| ModuleConfig::from_settings(&[(DECISION_MODEL.to_string(), path.display().to_string())]);

        let (cfg, problems) = read(&good);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(*cfg.model, own);
        assert_eq!(cfg.model_file.as_deref(), Some(good.display().to_string().as_str()));
        for path in [bad.clone(), dir.join("missing.json")] {
            let (cfg, problems) = read(&path);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("decision_model") && problems[0].contains("keeping the built-in model"), "{}", problems[0]);
            assert_eq!(cfg.model, DecisionModel::builtin());
            assert_eq!(cfg.model_file, None);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn beep_model_loads_a_model_file_and_a_bad_one_keeps_the_built_in() {
        let dir = std::env::temp_dir().join(format!("amd-config-beep-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut own = (*BeepModel::builtin()).clone();
        own.policy.after_person_at = 0.99;
        let good = dir.join("good.json");
        std::fs::write(&good, own.to_json()).unwrap();
        // A decision model is no beep model.
        let wrong = dir.join("decision.json");
        std::fs::write(&wrong, DecisionModel::builtin().to_json()).unwrap();
        let read = |path: &std::path::Path| ModuleConfig::from_settings(&[(BEEP_MODEL.to_string(), path.display().to_string())]);

        let (cfg, problems) = read(&good);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(*cfg.beep_model, own);
        assert_eq!(cfg.models().beep, cfg.beep_model);
        assert_eq!(cfg.beep_model_file.as_deref(), Some(good.display().to_string().as_str()));
        for path in [wrong.clone(), dir.join("missing.json")] {
            let (cfg, problems) = read(&path);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("beep_model") && problems[0].contains("keeping the built-in beep model"), "{}", problems[0]);
            assert_eq!(cfg.beep_model, BeepModel::builtin());
            assert_eq!(cfg.beep_model_file, None);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn record_dir_must_be_a_folder() {
        let dir = std::env::temp_dir();
        let (cfg, problems) = ModuleConfig::from_settings(&[(RECORD_DIR.to_string(), dir.display().to_string())]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.record_dir.as_deref(), Some(dir.display().to_string().as_str()));
        let (cfg, problems) = ModuleConfig::from_settings(&[(RECORD_DIR.to_string(), "/no/such/folder".to_string())]);
        assert_eq!(cfg.record_dir, None);
        assert!(problems.len() == 1 && problems[0].contains("not a folder"), "{problems:?}");
    }

    #[test]
    fn reads_params_and_max_channels() {
        let xml = r#"<configuration name="amd.conf"><settings>
            <param name="silent_threshold" value="96"/>
            <param name="max_channels" value="12"/>
            <param name="debug" value="1"/>
        </settings></configuration>"#;
        let (cfg, problems) = ModuleConfig::from_xml(xml);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.max_channels, 12);
        assert_eq!(cfg.params.silent_threshold, 96);
        assert!(cfg.params.debug);
    }

    #[test]
    fn bad_values_keep_defaults_and_are_reported() {
        let xml = r#"<configuration name="amd.conf"><settings>
            <param name="max_channels" value="lots"/>
            <param name="silent_initial" value="-3"/>
            <param name="colour" value="blue"/>
            <param name="noise_max_count" value="9"/>
        </settings></configuration>"#;
        let (cfg, problems) = ModuleConfig::from_xml(xml);
        assert_eq!(cfg.max_channels, DEFAULT_MAX_CHANNELS);
        assert_eq!(cfg.params.silent_initial, Params::default().silent_initial);
        assert_eq!(cfg.params.noise_max_count, 9);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("max_channels") && problems[0].contains("lots"));
        assert!(problems.iter().any(|p| p.contains("silent_initial") && p.contains("-3")));
        assert!(problems.iter().any(|p| p.contains("colour") && p.contains("blue")));
    }

    #[test]
    fn app_amd_names_in_amd_conf_xml() {
        let xml = r#"<configuration name="amd.conf"><settings>
            <param name="initial_silence" value="2500"/>
            <param name="greeting" value="1500"/>
            <param name="maximum_number_of_words" value="3"/>
            <param name="silence_threshold" value="256"/>
            <param name="maximumWordLength" value="nope"/>
        </settings></configuration>"#;
        let (cfg, problems) = ModuleConfig::from_xml(xml);
        let p = &cfg.params;
        assert_eq!((p.silent_initial, p.noise_max_intro, p.noise_max_count, p.silent_threshold), (2500, 1500, 3, 256));
        assert!(p.silent_initial_machine);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("maximumWordLength") && problems[0].contains("nope") && problems[0].contains("keeping maximumWordLength=0"), "{problems:?}");
    }

    #[test]
    fn broken_xml_gives_defaults() {
        let (cfg, problems) = ModuleConfig::from_xml("<configuration><settings>");
        assert_eq!(cfg, ModuleConfig::default());
        assert_eq!(problems.len(), 1);
    }
}
