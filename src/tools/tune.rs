//! `amd tune`: searches amd.conf.xml's parameters on an operator's own labeled calls (a folder
//! with labels.csv in the corpus format). The objectives, in strict order: fewest people called
//! machines (each one is a call the dialer abandons), then fewest machines called people (a
//! person, unsure or no decision all reach an agent), then the shortest mean decision time.
//!
//! The search is coordinate descent from the operator's starting point (the defaults unless
//! given): one parameter at a time over a coarse grid of sensible values, the others held, until
//! a whole pass changes nothing. Coarse grids and a minimum gain in decision time keep it from
//! chasing the exact pause lengths of a few recordings.
//!
//! Part of the calls (every fifth of each kind by default) is held out of the search and scored
//! only at the end, start against found: settings that fit the searched calls but do worse on
//! calls they never saw have learnt those recordings, not the operator's traffic.

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::analyzer::analyze::analyze;
use crate::analyzer::eval::{read_labels, render, report, Label, Scored};
use crate::analyzer::wav::{read_file, Audio};
use crate::detector::{Params, Status};
use crate::module::config::{ModuleConfig, BEEP_MODEL, DECISION_MODEL, MAX_CHANNELS, RECORD_DIR};

/// A mean decision time this much shorter is needed to move a parameter when the counts tie.
const MIN_TIME_GAIN_MS: f64 = 10.0;
/// Passes over all parameters at most (the search usually settles in two or three).
pub const DEFAULT_PASSES: usize = 4;

/// Fewer labelled calls of a kind (person, machine) than this and a search finds settings that
/// fit those recordings, not the operator's traffic: tune refuses without --force.
pub const MIN_CALLS_PER_KIND: usize = 20;

/// Share of the calls held out of the search by default (percent).
pub const DEFAULT_HOLDOUT_PERCENT: u32 = 20;
/// At most half the calls may be held out: the search needs calls to learn from.
pub const MAX_HOLDOUT_PERCENT: u32 = 50;

/// One labeled call, decoded once and analysed thousands of times.
pub struct Clip {
    pub label: Label,
    pub audio: Audio,
}

/// What one set of parameters achieves; compared in the order of the fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Clips whose expected status is person, called machine.
    pub humans_called_machine: usize,
    /// Clips whose expected status is machine, called anything else.
    pub machines_called_human: usize,
    /// Mean time to the decision over all clips, ms (a clip with none counts its whole length).
    pub mean_decision_ms: f64,
}

impl Score {
    /// Whether `self` is enough better than `than` to move a parameter for.
    pub fn beats(&self, than: &Score) -> bool {
        let counts = |s: &Score| (s.humans_called_machine, s.machines_called_human);
        match counts(self).cmp(&counts(than)) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => self.mean_decision_ms <= than.mean_decision_ms - MIN_TIME_GAIN_MS,
        }
    }
}

/// The values tried for each parameter: the ten of mod_com_amd (but debug) and ours.
pub fn search_space() -> Vec<(&'static str, Vec<u32>)> {
    let range = |from: u32, to: u32, step: usize| (from..=to).step_by(step).collect::<Vec<u32>>();
    let with_off = |mut values: Vec<u32>| {
        values.insert(0, 0);
        values
    };
    vec![
        ("silent_threshold", vec![16, 24, 32, 48, 64, 96, 128, 192, 256]),
        ("noise_floor_margin_db", range(0, 16, 1)),
        ("foreground_drop_db", with_off(range(3, 15, 1))),
        ("silent_initial", range(2500, 6000, 500)),
        ("silent_after_intro", range(500, 1500, 50)),
        ("noise_max_intro", range(1500, 5000, 100)),
        ("noise_max_count", range(2, 15, 1)),
        ("noise_min_length", range(40, 300, 20)),
        ("noise_inter_silence", range(10, 150, 10)),
        ("silent_max_session", range(100, 500, 100)),
        ("noise_max_word_length", with_off(range(1000, 4000, 250))),
        ("total_analysis_time", range(4000, 10000, 500)),
        ("detect_beep", vec![0, 1]),
    ]
}

/// Reads DIR/labels.csv and decodes every clip it names.
pub fn load_clips(dir: &Path) -> Result<Vec<Clip>, String> {
    let labels = read_labels(&dir.join("labels.csv"))?;
    let clips = labels
        .into_iter()
        .map(|label| {
            let audio = read_file(&dir.join(&label.file)).map_err(|e| format!("{}: {e}", label.file))?;
            Ok(Clip { label, audio })
        })
        .collect::<Result<Vec<Clip>, String>>()?;
    if clips.is_empty() {
        return Err(format!("{}: labels.csv names no clips", dir.display()));
    }
    Ok(clips)
}

/// The detector's verdict on every clip, in clip order, on all cores.
pub fn score_all(clips: &[Clip], params: &Params) -> Result<Vec<Scored>, String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(clips.len()).max(1);
    let results: Vec<Result<Vec<(usize, Scored)>, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    // Striding spreads long and short clips evenly over the threads.
                    (t..clips.len())
                        .step_by(threads)
                        .map(|i| {
                            let clip = &clips[i];
                            let outcome = analyze(&clip.audio, params).map_err(|e| format!("{}: {e}", clip.label.file))?;
                            Ok((i, Scored { label: clip.label.clone(), decision: outcome.decision, message_end: outcome.message_end, sit: outcome.sit, late: outcome.late }))
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a scoring thread panicked")).collect()
    });
    let mut all = Vec::with_capacity(clips.len());
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, s)| s).collect())
}

/// Splits the calls into those searched on and those held out: `percent` of each kind of call
/// (`truth`), spread evenly over its calls in labels.csv order, so that both parts have every
/// kind in proportion. A kind with too few calls for one to be held out stays whole in the search.
pub fn split_holdout(clips: Vec<Clip>, percent: u32) -> Result<(Vec<Clip>, Vec<Clip>), String> {
    if percent > MAX_HOLDOUT_PERCENT {
        return Err(format!("--holdout {percent}: at most {MAX_HOLDOUT_PERCENT} percent of the calls may be held out"));
    }
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let (mut searched, mut held_out) = (Vec::new(), Vec::new());
    for clip in clips {
        let i = seen.entry(clip.label.truth.clone()).or_insert(0);
        // The (i+1)-th call of its kind is held out when it brings the kind's held-out count
        // to the next whole number: exactly floor(n * percent / 100) of n calls.
        let held = (*i + 1) * u64::from(percent) / 100 > *i * u64::from(percent) / 100;
        *i += 1;
        if held {
            held_out.push(clip);
        } else {
            searched.push(clip);
        }
    }
    Ok((searched, held_out))
}

/// The three objectives over scored clips.
pub fn score(clips: &[Clip], scored: &[Scored]) -> Score {
    let mut humans_called_machine = 0;
    let mut machines_called_human = 0;
    let mut total_ms = 0u64;
    for (clip, s) in clips.iter().zip(scored) {
        let status = s.decision.map(|d| d.status);
        match s.label.expected_status.as_str() {
            "person" if status == Some(Status::Machine) => humans_called_machine += 1,
            "machine" if status != Some(Status::Machine) => machines_called_human += 1,
            _ => {}
        }
        total_ms += s.decision.map_or_else(
            || clip.audio.samples.len() as u64 * 1000 / u64::from(clip.audio.sample_rate),
            |d| d.at_ms,
        );
    }
    Score { humans_called_machine, machines_called_human, mean_decision_ms: total_ms as f64 / scored.len().max(1) as f64 }
}

/// What the search found.
pub struct Tuned {
    pub start: Params,
    pub start_score: Score,
    pub params: Params,
    pub score: Score,
    pub evaluations: usize,
    pub passes: usize,
}

/// The search space for these calls: a detector the calls show in use is never switched off
/// (with labelled beeps, detect_beep stays on).
pub fn search_space_for(clips: &[Clip]) -> Vec<(&'static str, Vec<u32>)> {
    let beeps_in_use = clips.iter().any(|c| c.label.beep_ms.is_some());
    let mut space = search_space();
    if beeps_in_use {
        space.retain(|(name, _)| *name != "detect_beep");
    }
    space
}

/// Coordinate search from `start`; `bar` shows progress (pass by pass).
pub fn search(clips: &[Clip], start: &Params, max_passes: usize, bar: &ProgressBar) -> Result<Tuned, String> {
    let space = search_space_for(clips);
    let evaluate = |p: &Params| -> Result<Score, String> { Ok(score(clips, &score_all(clips, p)?)) };
    let start_score = evaluate(start)?;
    let (mut best, mut best_score) = (start.clone(), start_score);
    bar.set_message(describe(&start_score));
    let mut evaluations = 1;
    let mut passes = 0;
    let per_pass: usize = space.iter().map(|(_, values)| values.len()).sum();
    while passes < max_passes.max(1) {
        passes += 1;
        bar.set_length(per_pass as u64);
        bar.set_position(0);
        bar.set_prefix(format!("pass {passes}"));
        let mut changed = false;
        for (name, values) in &space {
            let current = best.get(name).expect("search names are parameters");
            for value in values {
                bar.inc(1);
                let mut candidate = best.clone();
                if candidate.set(name, &value.to_string()).is_err() || candidate.get(name).as_deref() == Some(current.as_str()) {
                    continue;
                }
                let s = evaluate(&candidate)?;
                evaluations += 1;
                if s.beats(&best_score) {
                    best = candidate;
                    best_score = s;
                    changed = true;
                    bar.set_message(describe(&best_score));
                }
            }
        }
        if !changed {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(Tuned { start: start.clone(), start_score, params: best, score: best_score, evaluations, passes })
}

fn describe(s: &Score) -> String {
    format!(
        "humans called machine {}, machines called human {}, mean decision {:.0} ms",
        s.humans_called_machine, s.machines_called_human, s.mean_decision_ms
    )
}

/// The start and the found settings scored on the calls the search never saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOut {
    pub start: Score,
    pub found: Score,
}

impl HeldOut {
    /// Scores the start and the found settings on the held-out calls (None when there are none).
    pub fn check(held_out: &[Clip], tuned: &Tuned) -> Result<Option<HeldOut>, String> {
        if held_out.is_empty() {
            return Ok(None);
        }
        let start = score(held_out, &score_all(held_out, &tuned.start)?);
        let found = score(held_out, &score_all(held_out, &tuned.params)?);
        Ok(Some(HeldOut { start, found }))
    }

    /// Whether the found settings did worse than the start on the calls held out: then the
    /// start is what to keep.
    pub fn found_is_worse(&self) -> bool {
        self.start.beats(&self.found)
    }

    /// One line on whether what the search found holds on calls it did not see.
    pub fn verdict(&self) -> &'static str {
        if self.found.beats(&self.start) {
            "held-out calls: the found settings do better than the start there too"
        } else if self.start.beats(&self.found) {
            "held-out calls: WORSE with the found settings than with the start: they fit the searched calls, not calls in general; keep the start or tune on more calls"
        } else {
            "held-out calls: no better and no worse with the found settings"
        }
    }
}

/// The figures of a search, as lines of text (also the XML comment of the written file).
/// `searched` are the calls the search ran on, `held_out` the others.
pub fn summary(t: &Tuned, searched: &[Clip], held_out: &[Clip], check: Option<&HeldOut>, dir: &Path) -> Vec<String> {
    let count = |clips: &[Clip], status: &str| clips.iter().filter(|c| c.label.expected_status == status).count();
    let of = |status: &str| match count(held_out, status) {
        0 => format!("{} {status}", count(searched, status)),
        held => format!("{} + {held} {status}", count(searched, status)),
    };
    let total = searched.len() + held_out.len();
    let row = |name: String, start: String, found: String, held: Option<(String, String)>| {
        let (hs, hf) = held.unwrap_or_default();
        format!("{name:<46}{start:>8}{found:>8}{hs:>10}{hf:>8}").trim_end().to_string()
    };
    let mut lines = vec![
        format!("Written by amd tune from {total} labeled calls in {}", dir.display()),
        if held_out.is_empty() {
            format!("searched on all {total} (none held out: too few calls of each kind, or --holdout 0)")
        } else {
            format!("searched on {} of them; {} held out to check the result on", searched.len(), held_out.len())
        },
        format!(
            "{} evaluations in {} pass{}; objectives in order: humans called machine, machines called human, mean decision time",
            t.evaluations,
            t.passes,
            if t.passes == 1 { "" } else { "es" }
        ),
        row(String::new(), "searched".into(), String::new(), check.map(|_| ("held out".into(), String::new()))),
        row(String::new(), "start".into(), "found".into(), check.map(|_| ("start".into(), "found".into()))),
        row(
            format!("humans called machine (of {})", of("person")),
            t.start_score.humans_called_machine.to_string(),
            t.score.humans_called_machine.to_string(),
            check.map(|h| (h.start.humans_called_machine.to_string(), h.found.humans_called_machine.to_string())),
        ),
        row(
            format!("machines called human (of {})", of("machine")),
            t.start_score.machines_called_human.to_string(),
            t.score.machines_called_human.to_string(),
            check.map(|h| (h.start.machines_called_human.to_string(), h.found.machines_called_human.to_string())),
        ),
        row(
            "mean decision time (ms)".into(),
            format!("{:.0}", t.start_score.mean_decision_ms),
            format!("{:.0}", t.score.mean_decision_ms),
            check.map(|h| (format!("{:.0}", h.start.mean_decision_ms), format!("{:.0}", h.found.mean_decision_ms))),
        ),
    ];
    if let Some(h) = check {
        lines.push(h.verdict().to_string());
    }
    let changes: Vec<String> = Params::names()
        .filter_map(|n| {
            let (from, to) = (t.start.get(n)?, t.params.get(n)?);
            (from != to).then(|| format!("{n} {from} => {to}"))
        })
        .collect();
    lines.push(if changes.is_empty() { "changed: nothing".into() } else { format!("changed: {}", changes.join(", ")) });
    lines
}

/// amd.conf.xml with `config`'s values, and `notes` as a comment at the top.
pub fn conf_xml(config: &ModuleConfig, notes: &[String]) -> String {
    // "--" may not appear inside an XML comment.
    let safe = |s: &str| s.replace("--", "- -");
    let mut out = String::from("<configuration name=\"amd.conf\" description=\"mod_rust_amd: answering machine detection\">\n");
    out.push_str("  <!--\n");
    for line in notes {
        out.push_str(format!("    {}", safe(line)).trim_end());
        out.push('\n');
    }
    out.push_str("  -->\n  <settings>\n");
    for name in Params::names() {
        let value = config.params.get(name).expect("names are parameters");
        out.push_str(&format!("    <param name=\"{name}\" value=\"{value}\"/>\n"));
    }
    out.push_str(&format!("    <param name=\"{MAX_CHANNELS}\" value=\"{}\"/>\n", config.max_channels));
    // The module's own keys the start had: the written file must not drop them.
    let attr = |v: &str| v.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    if let Some(file) = &config.model_file {
        out.push_str(&format!("    <param name=\"{DECISION_MODEL}\" value=\"{}\"/>\n", attr(file)));
    }
    if let Some(file) = &config.beep_model_file {
        out.push_str(&format!("    <param name=\"{BEEP_MODEL}\" value=\"{}\"/>\n", attr(file)));
    }
    if let Some(dir) = &config.record_dir {
        out.push_str(&format!("    <param name=\"{RECORD_DIR}\" value=\"{}\"/>\n", attr(dir)));
    }
    out.push_str("  </settings>\n</configuration>\n");
    out
}

/// What `run` did.
pub struct Outcome {
    pub lines: Vec<String>,
    /// The found settings did worse on the held-out calls: the start was written instead.
    pub kept_start: bool,
}

/// Tunes on `dir` from `start`, holding `holdout_percent` of the calls out of the search to
/// check the result on, and writes the result to `out` (the start, where the result did worse on
/// the held-out calls). Refuses fewer than MIN_CALLS_PER_KIND calls of a kind unless `force`.
pub fn run(dir: &Path, start: &ModuleConfig, out: &Path, max_passes: usize, holdout_percent: u32, force: bool) -> Result<Outcome, String> {
    let all = load_clips(dir)?;
    let kind = |status: &str| all.iter().filter(|c| c.label.expected_status == status).count();
    let (people, machines) = (kind("person"), kind("machine"));
    if (people < MIN_CALLS_PER_KIND || machines < MIN_CALLS_PER_KIND) && !force {
        return Err(format!(
            "{}: {people} calls labelled person and {machines} machine: settings searched on fewer than {MIN_CALLS_PER_KIND} of each fit those recordings, not your traffic; label more calls (hundreds are better), or --force to tune on these anyway",
            dir.display()
        ));
    }
    let (searched, held_out) = split_holdout(all, holdout_percent)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} {bar:40} {pos}/{len} {msg}").expect("static template is valid"),
    );
    let tuned = search(&searched, &start.params, max_passes, &bar)?;
    let check = HeldOut::check(&held_out, &tuned)?;
    let mut lines = summary(&tuned, &searched, &held_out, check.as_ref(), dir);
    let kept_start = check.as_ref().is_some_and(HeldOut::found_is_worse);
    let written = if kept_start {
        lines.push("kept the starting settings: the found ones did worse on the calls held out of the search".to_string());
        tuned.start.clone()
    } else {
        tuned.params.clone()
    };
    let mut notes = lines.clone();
    let mut clips = searched;
    clips.extend(held_out);
    notes.push(String::new());
    notes.push(format!("amd eval with these settings, on all {} calls:", clips.len()));
    // As eval does: the end of the greeting is looked for after the decision, for its figures.
    let eval_params = Params { detect_message_end: true, ..written.clone() };
    notes.extend(render(&report(&score_all(&clips, &eval_params)?)).lines().map(str::to_string));
    let config = ModuleConfig { params: written, ..start.clone() };
    std::fs::write(out, conf_xml(&config, &notes)).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(Outcome { lines, kept_start })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(h: usize, m: usize, ms: f64) -> Score {
        Score { humans_called_machine: h, machines_called_human: m, mean_decision_ms: ms }
    }

    #[test]
    fn labelled_beeps_keep_the_beep_detector_on_and_a_worse_result_keeps_the_start() {
        let with_beep = Clip { label: Label { beep_ms: Some(3000), ..clip("a.wav", "machine").label }, ..clip("a.wav", "machine") };
        assert!(search_space_for(&[clip("b.wav", "human")]).iter().any(|(n, _)| *n == "detect_beep"));
        assert!(search_space_for(&[clip("b.wav", "human"), with_beep]).iter().all(|(n, _)| *n != "detect_beep"));
        let worse = HeldOut { start: s(0, 2, 2000.0), found: s(1, 0, 1500.0) };
        assert!(worse.found_is_worse());
        let better = HeldOut { start: s(1, 2, 2000.0), found: s(0, 2, 2000.0) };
        assert!(!better.found_is_worse());
    }

    #[test]
    fn objectives_in_order_with_a_minimum_time_gain() {
        assert!(s(1, 40, 9000.0).beats(&s(2, 0, 100.0)), "fewer humans called machine first");
        assert!(s(1, 3, 9000.0).beats(&s(1, 4, 100.0)), "then fewer machines called human");
        assert!(s(1, 3, 2000.0).beats(&s(1, 3, 2010.0)));
        assert!(!s(1, 3, 2000.0).beats(&s(1, 3, 2005.0)), "a few ms is not worth a change");
        assert!(!s(1, 3, 2000.0).beats(&s(1, 3, 2000.0)));
    }

    fn clip(file: &str, truth: &str) -> Clip {
        let label = Label {
            file: file.into(),
            truth: truth.into(),
            expected_status: if truth == "human" { "person" } else { "machine" }.into(),
            greeting_ms: None,
            initial_silence_ms: None,
            beep_ms: None,
            source: String::new(),
            condition: String::new(),
        };
        Clip { label, audio: Audio { sample_rate: 8000, samples: Vec::new(), encoding: crate::analyzer::wav::Encoding::Pcm16 } }
    }

    #[test]
    fn the_held_out_share_of_each_kind_is_spread_over_its_calls() {
        let clips: Vec<Clip> = (0..30).map(|i| clip(&format!("c{i:02}"), if i % 3 == 0 { "machine" } else { "human" })).collect();
        let (searched, held) = split_holdout(clips, 20).unwrap();
        let files = |c: &[Clip], truth: &str| c.iter().filter(|c| c.label.truth == truth).map(|c| c.label.file.clone()).collect::<Vec<_>>();
        // 20 humans and 10 machines: every fifth of each kind.
        assert_eq!(files(&held, "human"), ["c07", "c14", "c22", "c29"]);
        assert_eq!(files(&held, "machine"), ["c12", "c27"]);
        assert_eq!(searched.len(), 24);
        let few: Vec<Clip> = (0..4).map(|i| clip(&format!("f{i}"), "fax")).collect();
        let (searched, held) = split_holdout(few, 20).unwrap();
        assert!(held.is_empty() && searched.len() == 4, "four calls of a kind are too few to hold one out at 20%");
        let (searched, held) = split_holdout((0..9).map(|i| clip(&format!("h{i}"), "human")).collect(), 0).unwrap();
        assert!(held.is_empty() && searched.len() == 9);
        let err = split_holdout(vec![clip("a", "human")], 51).err().expect("more than half is refused");
        assert!(err.contains("--holdout 51"), "{err}");
    }

    #[test]
    fn every_value_searched_is_a_valid_setting() {
        for (name, values) in search_space() {
            for v in values {
                let mut p = Params::default();
                p.set(name, &v.to_string()).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    #[test]
    fn the_written_file_keeps_the_starts_models_and_record_dir() {
        let dir = std::env::temp_dir().join(format!("amd-tune-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model_path = dir.join("my model.json");
        std::fs::write(&model_path, crate::detector::DecisionModel::builtin().to_json()).unwrap();
        let model_file = model_path.display().to_string();
        let beep_path = dir.join("my beeps.json");
        std::fs::write(&beep_path, crate::detector::BeepModel::builtin().to_json()).unwrap();
        let beep_file = beep_path.display().to_string();
        let config = ModuleConfig {
            model: std::sync::Arc::new(crate::module::config::load_model(&model_file).unwrap()),
            model_file: Some(model_file),
            beep_model: std::sync::Arc::new(crate::module::config::load_beep_model(&beep_file).unwrap()),
            beep_model_file: Some(beep_file),
            record_dir: Some(dir.display().to_string()),
            ..ModuleConfig::default()
        };
        let (read, problems) = ModuleConfig::from_xml(&conf_xml(&config, &[]));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(read, config);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_written_file_reads_back_as_the_same_config_and_keeps_its_notes() {
        let params = Params { silent_after_intro: 900, noise_max_count: 9, detect_beep: false, ..Params::default() };
        let config = ModuleConfig { params, max_channels: 250, ..ModuleConfig::default() };
        let xml = conf_xml(&config, &["a note -- with dashes".into(), "humans called machine 3 => 2".into()]);
        let (read, problems) = ModuleConfig::from_xml(&xml);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(read, config);
        assert!(xml.contains("humans called machine 3 => 2"));
    }
}
