//! The `amd` binary as an operator runs it: analyze, eval, bench, plot and tune on the fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn amd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amd")).args(args).output().expect("the amd binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// A fresh, empty scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amd-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn bench_prints_figures_per_rate_and_ends_with_channels_per_core() {
    let out = amd(&["bench", "--runs", "1"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}{}", stdout, text(&out.stderr));
    for rate in ["8 kHz:", "16 kHz:", "48 kHz:"] {
        assert!(stdout.lines().any(|l| l.trim_start().starts_with(rate) && l.contains("µs per 20 ms frame")), "{stdout}");
    }
    let last = stdout.lines().last().expect("some output");
    let n = last.strip_suffix(" channels per core at 8 kHz").unwrap_or_else(|| panic!("last line: {last:?}"));
    assert!(n.parse::<u64>().is_ok_and(|n| n > 0), "last line: {last:?}");
}

#[test]
fn bench_refuses_a_folder_without_wavs() {
    let dir = scratch("bench-empty");
    let out = amd(&["bench", "--runs", "1", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no readable WAV files"), "{}", text(&out.stderr));
}

#[test]
fn plot_writes_an_svg_with_labelled_axes_threshold_talk_and_decision() {
    let dir = scratch("plot-svg");
    let svg = dir.join("call.svg");
    let out = amd(&["plot", &fixture("machine_short_beep.wav"), "-o", svg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc = std::fs::read_to_string(&svg).expect("svg written");
    let tree = roxmltree::Document::parse(&doc).expect("well-formed SVG");
    assert_eq!(tree.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = tree.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
    let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
    for needle in ["time (ms)", "level (dBFS)", "silent_threshold = 64", "talk segments", "decision (status, cause)", "machine, beep at"] {
        assert!(has(needle), "no text {needle:?} in {texts:?}");
    }
    assert!(tree.descendants().any(|n| n.has_tag_name("polyline")), "the level curve");
    assert!(text(&out.stdout).contains("machine, beep at"), "{}", text(&out.stdout));
}

#[test]
fn plot_writes_a_png() {
    let dir = scratch("plot-png");
    let png = dir.join("call.png");
    let out = amd(&["plot", &fixture("human_hello.wav"), "-o", png.to_str().unwrap(), "--set", "silent_threshold=96"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&png).expect("png written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, after the signature, the chunk length and its name.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 565));
    // Text and curves are drawn: a blank page compresses to a few hundred bytes.
    assert!(bytes.len() > 20_000, "{} bytes", bytes.len());
}

#[test]
fn plot_refuses_bad_input_with_a_reason() {
    let dir = scratch("plot-bad");
    let out = amd(&["plot", &fixture("human_hello.wav"), "-o", dir.join("x.jpg").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(".svg or .png"), "{}", text(&out.stderr));
    let out = amd(&["plot", &fixture("bad/rate_4khz.wav"), "-o", dir.join("x.svg").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("rate_4khz.wav") && text(&out.stderr).contains("4000 Hz"), "{}", text(&out.stderr));
}

#[test]
fn tune_writes_an_amd_conf_xml_that_eval_accepts_with_its_figures() {
    let dir = scratch("tune");
    let conf = dir.join("amd.conf.xml");
    let base = dir.join("base.xml");
    std::fs::write(&base, r#"<configuration name="amd.conf"><settings><param name="max_channels" value="250"/></settings></configuration>"#).unwrap();
    let out = amd(&["tune", fixtures().to_str().unwrap(), "-o", conf.to_str().unwrap(), "--conf", base.to_str().unwrap(), "--passes", "2", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("humans called machine (of 4 person)"), "{stdout}");
    let xml = std::fs::read_to_string(&conf).expect("conf written");
    assert!(xml.contains(r#"<param name="max_channels" value="250"/>"#), "the start's max_channels is kept:\n{xml}");
    for needle in ["humans called machine (of 4 person)", "machines called human (of 6 machine)", "mean decision time (ms)", "amd eval with these settings"] {
        assert!(xml.contains(needle), "no {needle:?} in\n{xml}");
    }
    let eval = amd(&["eval", fixtures().to_str().unwrap(), "--conf", conf.to_str().unwrap()]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    assert!(text(&eval.stderr).is_empty(), "the written file has no bad value: {}", text(&eval.stderr));
    // The figures in the file are the ones eval finds with it.
    let report = text(&eval.stdout);
    let line = report.lines().find(|l| l.starts_with("humans called machine:")).expect("eval's figures");
    assert!(xml.contains(line), "{line:?} not in\n{xml}");
}

#[test]
fn tune_checks_what_it_found_on_calls_held_out_of_the_search() {
    let dir = scratch("tune-holdout");
    let conf = dir.join("amd.conf.xml");
    // Half of each kind: of the fixtures' 3 humans and 4 machines, 1 and 2 are held out (one
    // fax, SIT or silence call is too few to hold out).
    let out = amd(&["tune", fixtures().to_str().unwrap(), "-o", conf.to_str().unwrap(), "--passes", "1", "--holdout", "50", "--force"]);
    let stdout = text(&out.stdout);
    // Worse on the held-out calls: the start is written and the exit code says so.
    let kept = stdout.contains("held-out calls: WORSE");
    assert_eq!(out.status.code(), Some(if kept { 1 } else { 0 }), "{stdout}{}", text(&out.stderr));
    assert_eq!(kept, stdout.contains("kept the starting settings"), "{stdout}");
    for needle in ["searched on 7 of them; 3 held out", "humans called machine (of 3 + 1 person)", "machines called human (of 4 + 2 machine)", "held out", "held-out calls: "] {
        assert!(stdout.contains(needle), "no {needle:?} in\n{stdout}");
    }
    let xml = std::fs::read_to_string(&conf).expect("conf written");
    assert!(xml.contains("held-out calls: "), "the verdict is kept in the file:\n{xml}");
    assert!(xml.contains("amd eval with these settings, on all 10 calls"), "{xml}");
    let out = amd(&["tune", fixtures().to_str().unwrap(), "-o", conf.to_str().unwrap(), "--holdout", "80", "--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--holdout 80"), "{}", text(&out.stderr));
}

/// Ten calls are too few to tune on: refused with the counts and what to do, nothing written.
#[test]
fn tune_refuses_too_few_calls_without_force() {
    let dir = scratch("tune-few");
    let conf = dir.join("amd.conf.xml");
    let out = amd(&["tune", fixtures().to_str().unwrap(), "-o", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("4 calls labelled person and 6 machine") && stderr.contains("--force"), "{stderr}");
    assert!(!conf.exists());
}

#[test]
fn tune_refuses_a_folder_without_labels() {
    let dir = scratch("tune-empty");
    let out = amd(&["tune", dir.to_str().unwrap(), "-o", dir.join("out.xml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("labels.csv"), "{}", text(&out.stderr));
    assert!(!dir.join("out.xml").exists());
}

/// The quick start's analyze: one line per fixture, tab-separated, whose status is the one its
/// label expects; --json gives one object per line with the documented keys.
#[test]
fn analyze_prints_one_line_per_file_with_the_labelled_status() {
    let labels = std::fs::read_to_string(fixtures().join("labels.csv")).expect("labels.csv");
    let expected: Vec<(String, String)> = labels
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[2].to_string())
        })
        .collect();
    let dir = fixtures().display().to_string();
    let out = amd(&["analyze", &dir]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout.lines().count(), expected.len(), "{stdout}");
    for (file, status) in &expected {
        let line = stdout.lines().find(|l| l.split('\t').next().is_some_and(|f| f.ends_with(file.as_str()))).unwrap_or_else(|| panic!("no line for {file}: {stdout}"));
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[1], status, "{line}");
        assert!(cols[3].parse::<u64>().is_ok(), "decision ms in {line}");
    }
    let out = amd(&["analyze", "--json", &dir]);
    assert!(out.status.success());
    for line in text(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in ["file", "status", "result", "decision_ms"] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
    }
}

/// Unreadable files are named on stderr with a reason, the good ones are still analysed, and the
/// exit code says some failed; so does a folder with no .wav in it.
#[test]
fn analyze_reports_bad_files_and_goes_on() {
    let bad = fixtures().join("bad").display().to_string();
    let out = amd(&["analyze", &bad, &fixture("human_hello.wav")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with(&fixture("human_hello.wav")) && stdout.contains("\tperson\t"), "{stdout}");
    let stderr = text(&out.stderr);
    let bad_files = std::fs::read_dir(fixtures().join("bad")).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "wav")).count();
    assert_eq!(stderr.lines().filter(|l| l.contains("/bad/")).count(), bad_files, "{stderr}");
    let empty = scratch("no-wavs");
    let out = amd(&["analyze", &empty.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no .wav files"), "{}", text(&out.stderr));
}

/// A bad --set or --conf entry is named on stderr and skipped, the run goes on with the rest, and
/// the exit code says something was wrong; a --conf holding another module's configuration is
/// refused outright.
#[test]
fn analyze_reports_bad_settings_goes_on_and_exits_1() {
    let hello = fixture("human_hello.wav");
    let out = amd(&["analyze", &hello, "--set", "silent_threshold=96,noise_max_count=lots"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\tperson\t"), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--set") && stderr.contains("noise_max_count") && stderr.contains("lots"), "{stderr}");
    assert!(!stderr.contains("silent_threshold"), "the good pair is taken: {stderr}");

    let dir = scratch("bad-conf");
    let conf = dir.join("amd.conf.xml");
    std::fs::write(&conf, r#"<configuration name="amd.conf"><settings><param name="silent_initial" value="-5"/></settings></configuration>"#).unwrap();
    let out = amd(&["analyze", &hello, "--conf", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("silent_initial") && text(&out.stderr).contains("-5"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 1);

    let avmd = dir.join("avmd.conf.xml");
    std::fs::write(&avmd, r#"<configuration name="avmd.conf"><settings><param name="debug" value="0"/></settings></configuration>"#).unwrap();
    let out = amd(&["analyze", &hello, "--conf", avmd.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no <configuration name=\"amd.conf\">"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());

    let good = amd(&["analyze", &hello, "--set", "silent_threshold = 96"]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
}

/// eval on the fixtures: every one right, the figures' lines present, --json parses; a label
/// whose file is missing is named on stderr and makes the exit code 1.
#[test]
fn eval_scores_the_fixtures_and_reports_missing_files() {
    let dir = fixtures().display().to_string();
    let out = amd(&["eval", &dir]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("overall accuracy: 100.0%"), "{stdout}");
    assert!(stdout.contains("after end of greeting"), "{stdout}");
    let out = amd(&["eval", "--json", &dir]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(v.is_object(), "{v}");

    let missing = scratch("eval-missing");
    std::fs::copy(fixtures().join("human_hello.wav"), missing.join("human_hello.wav")).unwrap();
    let labels = std::fs::read_to_string(fixtures().join("labels.csv")).unwrap();
    let kept: Vec<&str> = labels.lines().filter(|l| l.starts_with("file,") || l.starts_with("human_hello.wav,") || l.starts_with("silence.wav,")).collect();
    std::fs::write(missing.join("labels.csv"), kept.join("\n") + "\n").unwrap();
    let out = amd(&["eval", &missing.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("silence.wav"), "{}", text(&out.stderr));
}

/// eval over several folders: one summary row per folder and one over all, the totals over all
/// the calls, --json with each folder and the total; --errors names each call it got wrong.
#[test]
fn eval_over_several_folders_gives_a_row_each_and_the_totals() {
    let fixtures_dir = fixtures().display().to_string();
    // A second folder whose labels say the opposite of two calls: both are listed by --errors.
    let flipped = scratch("eval-flipped");
    let labels = std::fs::read_to_string(fixtures().join("labels.csv")).unwrap();
    let mut kept = vec![labels.lines().next().unwrap().to_string()];
    for line in labels.lines().filter(|l| l.starts_with("human_hello.wav,") || l.starts_with("machine_beep.wav,")) {
        let file = line.split(',').next().unwrap();
        std::fs::copy(fixtures().join(file), flipped.join(file)).unwrap();
        let flipped_line = if file == "human_hello.wav" {
            line.replace(",human,person,", ",machine,machine,")
        } else {
            line.replace(",machine,machine,", ",human,person,")
        };
        kept.push(flipped_line);
    }
    std::fs::write(flipped.join("labels.csv"), kept.join("\n") + "\n").unwrap();
    let flipped_dir = flipped.display().to_string();

    let out = amd(&["eval", "--errors", &fixtures_dir, &flipped_dir]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let n_fixtures = labels.lines().count() - 1;
    let row = |name: &str| stdout.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no row for {name}: {stdout}")).to_string();
    assert!(row(&fixtures_dir).split_whitespace().nth(1) == Some(&n_fixtures.to_string()), "{stdout}");
    assert!(row(&flipped_dir).split_whitespace().nth(1) == Some("2"), "{stdout}");
    assert!(row("all ").split_whitespace().nth(1) == Some(&(n_fixtures + 2).to_string()), "{stdout}");
    assert!(stdout.contains(&format!("clips: {}", n_fixtures + 2)), "{stdout}");
    let errors: Vec<&str> = stdout.lines().filter(|l| l.contains(": wrong status: ")).collect();
    assert_eq!(errors.len(), 2, "{stdout}");
    assert!(errors.iter().any(|l| l.starts_with(&format!("{flipped_dir}/human_hello.wav: wrong status: truth machine"))), "{stdout}");
    assert!(errors.iter().any(|l| l.starts_with(&format!("{flipped_dir}/machine_beep.wav: wrong status: truth human"))), "{stdout}");

    let out = amd(&["eval", "--json", &fixtures_dir, &flipped_dir]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["total"]["clips"], serde_json::json!(n_fixtures + 2), "{v}");
    assert_eq!(v["folders"][&flipped_dir]["clips"], serde_json::json!(2), "{v}");
    assert_eq!(v["folders"][&fixtures_dir]["overall_accuracy"], serde_json::json!(1.0), "{v}");
}

#[path = "common/mod.rs"]
mod common;

/// 16-bit mono PCM WAV bytes.
fn wav_bytes(rate: u32, samples: &[i16]) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A labelled folder the model can learn from: "machines" whose syllables go on for 5 s, and
/// "people" whose (long) greeting stops at 3.2 s and waits; each call a voice of its own.
fn synthetic_training_folder(name: &str) -> PathBuf {
    let dir = scratch(name);
    let mut labels = String::from("file,truth,expected_status,sample_rate,greeting_ms,initial_silence_ms,beep_ms,source,condition\n");
    for i in 0..40u32 {
        let machine = i % 2 == 0;
        let mut s = common::Synth::new(8000);
        let lead = 300 + 40 * (i % 7);
        let talk = if machine { 5000 } else { 2900 + 20 * (i % 9) };
        s.silence(lead).syllables(talk, 150 + 5 * (i % 5), 20 + 5 * (i % 3), 2500.0 + 100.0 * (i % 4) as f32).silence(7000 - lead - talk);
        let file = format!("call_{i:02}.wav");
        std::fs::write(dir.join(&file), wav_bytes(8000, &s.samples)).unwrap();
        let (truth, expected) = if machine { ("machine", "machine") } else { ("human", "person") };
        labels.push_str(&format!("{file},{truth},{expected},8000,{talk},{lead},,synth:voice{i}:x,\n"));
    }
    std::fs::write(dir.join("labels.csv"), labels).unwrap();
    dir
}

/// --policy-on: the threshold is chosen on another folder's calls, every voice of the training
/// folder not held back fits the trees, and the model's notes name both.
#[test]
fn train_chooses_its_threshold_on_the_folders_it_is_given() {
    let fit = synthetic_training_folder("train_fit");
    let choose = synthetic_training_folder("train_choose");
    let m = fit.join("model.json").display().to_string();
    let (f, c) = (fit.display().to_string(), choose.display().to_string());
    let out = amd(&["train", &f, "--policy-on", &c, "-o", &m, "--holdout", "25", "--trees", "20"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let calls = stdout.lines().find(|l| l.starts_with("calls: ")).expect("the calls line");
    assert!(calls.starts_with("calls: 40 "), "{calls}");
    assert!(calls.contains(&format!("40 calls from {c} chose the policy")), "{calls}");
    // No training voice went to the policy: all but the held-back fit the trees.
    let fit_calls: usize = calls.split("; ").nth(1).and_then(|p| p.split(' ').next()).and_then(|n| n.parse().ok()).expect("fit count");
    let held: usize = calls.split(", ").last().and_then(|p| p.split(' ').next()).and_then(|n| n.parse().ok()).expect("held-back count");
    assert_eq!(fit_calls + held, 40, "{calls}");
    let model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    assert_eq!(model["notes"]["policy_on"], serde_json::json!([c]));
}

/// train learns a model from a labelled folder, reproducibly, reports it on held-back calls,
/// and the model it writes is one eval and analyze decide with; a bad model file is refused.
#[test]
fn train_writes_a_model_that_eval_and_analyze_use() {
    let dir = synthetic_training_folder("train");
    let d = dir.display().to_string();
    let model = dir.join("model.json");
    let m = model.display().to_string();
    let out = amd(&["train", &d, "-o", &m, "--holdout", "25", "--trees", "20"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for needle in ["calls: 40", "held-back calls, model:", "held-back calls, rules:", "a timer's machine verdict stands from p >= "] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
    let first = std::fs::read_to_string(&model).unwrap();
    let parsed = mod_rust_amd::DecisionModel::from_json(&first).expect("a valid model");
    assert_eq!(parsed.trees.len(), 20);
    assert_eq!(parsed.features, mod_rust_amd::FEATURE_NAMES);
    // Same data, same seed: the same model, byte for byte.
    assert!(amd(&["train", &d, "-o", &m, "--holdout", "25", "--trees", "20"]).status.success());
    assert_eq!(std::fs::read_to_string(&model).unwrap(), first);

    // The people here talk past noise_max_intro and then wait: the rules call them machines, a
    // model that learnt from them lets the silence call them people.
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", d.as_str()];
        args.extend_from_slice(extra);
        let out = amd(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let report = text(&out.stdout);
        let line = report.lines().find(|l| l.starts_with("humans called machine:")).expect("eval's figures").to_string();
        line.trim_start_matches("humans called machine: ").trim_end_matches('%').parse::<f64>().unwrap()
    };
    let by_rules = eval(&["--set", "decision=rules"]);
    let by_model = eval(&["--model", &m]);
    assert!(by_rules > 90.0, "the rules call these long greetings machines: {by_rules}%");
    assert!(by_model < by_rules, "model {by_model}% vs rules {by_rules}%");

    let out = amd(&["analyze", "--json", "--model", &m, &dir.join("call_00.wav").display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let confidence = v["confidence"].as_f64().expect("a confidence");
    assert!((0.0..=1.0).contains(&confidence), "{v}");

    std::fs::write(dir.join("bad.json"), "{\"format\": \"mod_rust_amd decision model 0\"}").unwrap();
    let out = amd(&["analyze", "--model", &dir.join("bad.json").display().to_string(), &fixture("human_hello.wav")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bad.json"), "{}", text(&out.stderr));
    let out = amd(&["train", &d, "-o", &m, "--holdout", "60"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--holdout"), "{}", text(&out.stderr));
}

/// A labelled folder the beep model can learn from: machines whose greeting ends with a pause
/// and a beep (its start in beep_ms), and people who say hello over a room where a note with
/// vibrato plays (a tone, but no beep); each call a voice of its own.
fn synthetic_beep_folder(name: &str, shift: u32) -> PathBuf {
    let dir = scratch(name);
    let mut labels = String::from("file,truth,expected_status,sample_rate,greeting_ms,initial_silence_ms,beep_ms,source,condition\n");
    for i in 0..24u32 {
        let machine = i % 2 == 0;
        let mut s = common::Synth::new(8000);
        let lead = 300 + 40 * ((i + shift) % 5);
        let file = format!("call_{i:02}.wav");
        if machine {
            let talk = 2200 + 100 * ((i + shift) % 6);
            s.silence(lead).syllables(talk, 170, 30, 3000.0).silence(300 + 50 * (i % 4));
            let beep = s.at_ms();
            s.tone(400, [1000.0, 850.0, 440.0, 1400.0][(i / 2 % 4) as usize], 2000.0 + 500.0 * (i % 3) as f32).silence(2500);
            labels.push_str(&format!("{file},machine,machine,8000,{talk},{lead},{beep},synth:voice{i}:x,\n"));
        } else {
            s.silence(lead).noise_burst(500, 3000.0).silence(600).vibrato(400, 440.0 + 20.0 * (i % 5) as f32, 9.0, 5.0, 1500.0).silence(3500);
            labels.push_str(&format!("{file},human,person,8000,500,{lead},,synth:voice{i}:x,\n"));
        }
        std::fs::write(dir.join(&file), wav_bytes(8000, &s.samples)).unwrap();
    }
    std::fs::write(dir.join("labels.csv"), labels).unwrap();
    dir
}

/// train-beep learns a beep model from labelled folders, its thresholds chosen on the folders
/// given for that, reproducibly; the file it writes is one analyze and eval judge beeps with
/// (`--beep-model`, as amd.conf.xml's beep_model); a bad one, or no policy folder, is refused.
#[test]
fn train_beep_writes_a_model_that_analyze_and_eval_use() {
    let fit = synthetic_beep_folder("train_beep_fit", 0);
    let choose = synthetic_beep_folder("train_beep_choose", 1);
    let (f, c) = (fit.display().to_string(), choose.display().to_string());
    let model = fit.join("beeps.json");
    let m = model.display().to_string();
    let dump = fit.join("tones.csv");
    let out = amd(&["train-beep", &f, "--policy-on", &c, "-o", &m, "--trees", "20", "--dump-candidates", &dump.display().to_string()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for needle in ["calls: 24 ", "training calls: beeps found", "policy calls (24 from ", "a tone is the beep from p >= "] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
    let first = std::fs::read_to_string(&model).unwrap();
    let parsed = mod_rust_amd::detector::BeepModel::from_json(&first).expect("a valid beep model");
    assert_eq!(parsed.trees.len(), 20);
    assert_eq!(parsed.features, mod_rust_amd::detector::BEEP_FEATURE_NAMES);
    assert_eq!(parsed.notes["policy_on"], serde_json::json!([c]));
    let csv = std::fs::read_to_string(&dump).unwrap();
    let header = "folder,file,truth,beep_ms,decision,decision_ms,context,at_ms,start_ms,the_beep,probability,duration_ms,";
    assert!(csv.starts_with(header), "{}", csv.lines().next().unwrap_or(""));
    assert!(csv.lines().skip(1).any(|l| l.split(',').nth(9) == Some("1")), "the beeps are among the tones");
    // The same folders give the same file, byte for byte.
    assert!(amd(&["train-beep", &f, "--policy-on", &c, "-o", &m, "--trees", "20"]).status.success());
    assert_eq!(std::fs::read_to_string(&model).unwrap(), first);

    let out = amd(&["eval", "--beep-model", &m, &c]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("beep found within 150 ms"), "{}", text(&out.stdout));
    let out = amd(&["analyze", "--json", "--beep-model", &m, &choose.join("call_00.wav").display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A decision model is no beep model; and the thresholds need folders of their own.
    let decision = fit.join("decision.json");
    std::fs::write(&decision, mod_rust_amd::DecisionModel::builtin().to_json()).unwrap();
    let out = amd(&["analyze", "--beep-model", &decision.display().to_string(), &fixture("human_hello.wav")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("decision.json") && stderr.contains("not a beep model"), "{stderr}");
    let out = amd(&["train-beep", &f, "-o", &m]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--policy-on"), "{}", text(&out.stderr));
}

/// analyze with detect_late_machine: a "Hello?" is a person, the beep after the recorded
/// message that follows is a late machine, with the message-end fields filled for it; eval
/// counts it and counts its beep as found.
#[test]
fn analyze_and_eval_report_a_late_machine() {
    let dir = scratch("late");
    let mut s = common::Synth::new(8000);
    s.silence(300).noise_burst(450, 3000.0).silence(1300).syllables(1500, 180, 40, 3000.0).silence(300);
    let beep_start = s.at_ms();
    s.tone(500, 1000.0, 4000.0).silence(4000);
    std::fs::write(dir.join("late.wav"), wav_bytes(8000, &s.samples)).unwrap();
    std::fs::write(
        dir.join("labels.csv"),
        format!("file,truth,expected_status,sample_rate,greeting_ms,initial_silence_ms,beep_ms,source,condition\nlate.wav,machine,machine,8000,450,300,{beep_start},synth,\n"),
    )
    .unwrap();
    let file = dir.join("late.wav").display().to_string();
    let out = amd(&["analyze", "--json", "--set", "detect_late_machine=true", &file]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "person", "{v}");
    assert_eq!((v["late_status"].as_str(), v["late_result"].as_str()), (Some("machine"), Some("beep")), "{v}");
    let late_ms = v["late_ms"].as_u64().unwrap();
    assert!((u64::from(beep_start)..=u64::from(beep_start) + 150).contains(&late_ms), "beep at {beep_start}: {v}");
    assert_eq!(v["message_end"], "beep", "{v}");
    assert!(v["beep_end_ms"].as_u64().is_some(), "{v}");
    // Without it, none of that.
    let out = amd(&["analyze", "--json", &file]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["late_status"].is_null() && v["message_end"].is_null(), "{v}");

    let out = amd(&["eval", "--set", "detect_late_machine=true", &dir.display().to_string()]);
    let report = text(&out.stdout);
    assert!(report.contains("late machines (after person or unsure, detect_late_machine): machine 1"), "{report}");
    assert!(report.contains("beep found within 150 ms of its start: 100.0% of 1 clips with a beep"), "{report}");
}

/// What FreeSWITCH records: a stereo file of both directions (--channel picks the far end's), and
/// rates the detector does not take, brought to one as the module brings them.
#[test]
fn analyze_takes_a_channel_of_a_stereo_recording_and_any_rate_the_module_takes() {
    let dir = scratch("stereo");
    let read = |name: &str| {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        // The fixtures are 16-bit mono PCM with a 44-byte header.
        bytes[44..].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect::<Vec<i16>>()
    };
    let (hello, machine) = (read("human_hello.wav"), read("machine_beep.wav"));
    let n = hello.len().max(machine.len());
    let at = |v: &[i16], i: usize| v.get(i).copied().unwrap_or(0);
    let interleaved: Vec<i16> = (0..n).flat_map(|i| [at(&hello, i), at(&machine, i)]).collect();
    let mut bytes = wav_bytes(8000, &interleaved);
    // Make the header say two channels (block align 4, byte rate doubled).
    bytes[22..24].copy_from_slice(&2u16.to_le_bytes());
    bytes[28..32].copy_from_slice(&(8000u32 * 4).to_le_bytes());
    bytes[32..34].copy_from_slice(&4u16.to_le_bytes());
    let stereo = dir.join("both_directions.wav");
    std::fs::write(&stereo, bytes).unwrap();
    let status = |args: &[&str]| {
        let out = amd(args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).split('\t').nth(1).unwrap_or_default().to_string()
    };
    let s = stereo.display().to_string();
    assert_eq!(status(&["analyze", &s]), "person", "the first channel by default");
    assert_eq!(status(&["analyze", "--channel", "1", &s]), "machine");
    let out = amd(&["analyze", "--channel", "2", &s]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no channel 2"), "{}", text(&out.stderr));

    // 11025 Hz: every 8 kHz sample stretched to the new rate by repetition, a rate only the
    // resampler makes usable.
    let slow: Vec<i16> = (0..hello.len() * 11025 / 8000).map(|i| hello[i * 8000 / 11025]).collect();
    let odd = dir.join("hello_11025.wav");
    std::fs::write(&odd, wav_bytes(11025, &slow)).unwrap();
    assert_eq!(status(&["analyze", &odd.display().to_string()]), "person");
}
