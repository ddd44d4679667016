//! The parameter parser: voice_start's data and amd.conf.xml, raw and with the input as one
//! param's name and value. Whatever the text, parsing returns (no panic) and leaves every value
//! one the parser itself accepts.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression tests that replay saved
//! inputs without the fuzzer (tests/fuzz_regressions.rs).

use mod_rust_amd::module::config::ModuleConfig;
use mod_rust_amd::Params;

fn assert_valid(p: &Params) {
    for name in Params::names() {
        let v = p.get(name).expect("every name has a value");
        let mut q = p.clone();
        q.set(name, &v).unwrap_or_else(|e| panic!("{name}={v} was stored but is refused: {e}"));
        assert_eq!(&q, p);
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);

    let mut p = Params::default();
    let errors = p.apply_pairs(&text);
    assert_valid(&p);
    for e in &errors {
        assert!(!e.to_string().is_empty());
    }

    let (cfg, _) = ModuleConfig::from_xml(&text);
    assert_valid(&cfg.params);

    let (key, value) = text.split_once('=').unwrap_or((&text, ""));
    let xml = format!(
        r#"<configuration name="amd.conf"><settings><param name="{}" value="{}"/></settings></configuration>"#,
        xml_escape(key),
        xml_escape(value)
    );
    let (cfg, problems) = ModuleConfig::from_xml(&xml);
    assert_valid(&cfg.params);
    // A value the module keeps is a change it accepted; anything else is reported.
    if cfg == ModuleConfig::default() && problems.is_empty() {
        let mut q = Params::default();
        let accepted = q.set(key, value).is_ok() || key.trim().eq_ignore_ascii_case("max_channels");
        assert!(accepted || key.contains(|c: char| c.is_control()), "{key:?}={value:?} neither applied nor reported");
    }
}
