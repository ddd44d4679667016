//! `amd train`: learns the decision model from labelled calls (folders in the corpus format).
//!
//! 1. Each call (but fax and SIT calls, which tones decide) is run through the detector with
//!    its timeline collected (timeline.rs): a point every 100 ms from the greeting's start until
//!    a tone, silent_initial or total_analysis_time decides, or the audio ends.
//! 2. The calls are split by voice (the `source` column up to its second ':'), so that no voice
//!    is on both sides: `--holdout` percent of the voices are held back for the final figures,
//!    and of the rest one in five voices chooses the policy while the others fit the trees. With
//!    `--policy-on DIR...` the policy is chosen on those folders' calls instead (all of them:
//!    a threshold picked on a few hundred calls moves with the few people among them that a timer
//!    catches), and every voice not held back fits the trees.
//! 3. The trees (boost.rs) learn P(machine) from the points where a timer says `machine`
//!    (noise_max_intro, noise_max_count, noise_max_word_length): the model's one job is to
//!    confirm those verdicts or hold them back. Each call weighs as much as any other.
//! 4. The policy (the probability from which a timer's verdict stands) is the one that, on the
//!    policy calls, costs least: a person called a machine costs ten, a person decided more than
//!    2 s after their greeting (or not at all) three, a machine not called one one; the people's
//!    p90 after their greeting must stay within 1 s and the machines' p50 within 3.5 s of the
//!    answer.
//! 5. The figures on the held-back calls, model against the rules, go to the output and into
//!    the model's notes.

use std::io::Write;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::analyzer::analyze::{analyze_with, at_detector_rate, FRAME_MS};
use crate::analyzer::eval::{read_labels, Label};
use crate::analyzer::wav::{read_file, Audio};
use crate::detector::{
    sigmoid, Cause, Decision, DecisionMode, DecisionModel, Detector, Params, Policy, Status, TimelinePoint, UnsupportedRate, FEATURE_NAMES,
};
use crate::detector::timeline_feature_index as feature_index;
use crate::tools::boost::{self, Row};
pub use crate::tools::boost::Settings as BoostSettings;

/// Percent of the voices held back for the final figures by default.
pub const DEFAULT_HOLDOUT_PERCENT: u32 = 20;
/// Of the voices not held back, one in this many chooses the policy.
const POLICY_SHARE: u64 = 5;
/// Where the figures the timers read sit in a point.
const GREETING: usize = feature_index("greeting_ms");
const SILENCE: usize = feature_index("silence_ms");
const WORDS: usize = feature_index("words");
const LONGEST_WORD: usize = feature_index("longest_word_ms");

pub struct Options {
    pub holdout_percent: u32,
    pub seed: u64,
    pub boost: boost::Settings,
    /// Also write every point as CSV, for looking at the features.
    pub dump: Option<PathBuf>,
    /// Folders whose calls choose the policy (none: a share of the training folders' voices).
    pub policy_on: Vec<PathBuf>,
}

/// One labelled call's timeline and what decided it when timing could not.
struct CallTimeline {
    folder: String,
    label: Label,
    points: Vec<TimelinePoint>,
    /// The tone, silent_initial or total_analysis_time decision that ended the collection.
    fallback: Option<Decision>,
    /// What the rules decided (for the comparison on held-back calls).
    rules: Option<Decision>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    Fit,
    Policy,
    HeldBack,
}

/// The voice a call was made with: the `source` column up to its second ':'
/// (`espeak-ng:en-us+f2:s170:p55` → `espeak-ng:en-us+f2`), else the file name.
fn voice(label: &Label) -> &str {
    let s = label.source.as_str();
    if s.is_empty() {
        return &label.file;
    }
    match s.match_indices(':').nth(1) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// FNV-1a: a hash that is the same on every machine and Rust version, so a seed always
/// splits the calls the same way.
fn stable_hash(seed: u64, text: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x100_0000_01b3);
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn part_of(label: &Label, opts: &Options) -> Part {
    let h = stable_hash(opts.seed, voice(label));
    if h % 100 < u64::from(opts.holdout_percent) {
        Part::HeldBack
    } else if opts.policy_on.is_empty() && (h / 100).is_multiple_of(POLICY_SHARE) {
        Part::Policy
    } else {
        Part::Fit
    }
}

/// The call's timeline, a point every STEP_MS, and the decision that ended it when timing could
/// not (a tone, silent_initial, total_analysis_time).
fn collect(audio: &Audio, params: &Params) -> Result<(Vec<TimelinePoint>, Option<Decision>), UnsupportedRate> {
    let audio = at_detector_rate(audio)?;
    let mut detector = Detector::new(params, audio.sample_rate)?;
    detector.collect_timeline();
    let frame = (audio.sample_rate * FRAME_MS / 1000) as usize;
    for chunk in audio.samples.chunks(frame) {
        detector.push(chunk, &mut |_| {});
        if detector.decision().is_some() {
            break;
        }
    }
    Ok((detector.take_timeline(), detector.decision()))
}

/// The timer that says `machine` at a point, if one does (as the detector's rules judge it).
fn timer_says_machine(point: &TimelinePoint, params: &Params) -> Option<Cause> {
    let f = &point.features;
    if f[WORDS] > params.noise_max_count as f32 {
        Some(Cause::MaxCount)
    } else if params.noise_max_word_length > 0 && f[LONGEST_WORD] >= params.noise_max_word_length as f32 {
        Some(Cause::MaxWordLength)
    } else if f[GREETING] >= params.noise_max_intro as f32 {
        Some(Cause::MaxIntro)
    } else {
        None
    }
}

/// What the detector decides on one call with `policy`, from the probabilities at its points
/// (at STEP_MS resolution: close to the detector, which judges silence every 10 ms).
fn simulate(call: &CallTimeline, probabilities: &[f32], params: &Params, policy: &Policy) -> Option<Decision> {
    for (point, &p) in call.points.iter().zip(probabilities) {
        if let Some(cause) = timer_says_machine(point, params) {
            if p >= policy.machine_at {
                return Some(Decision { status: Status::Machine, cause, at_ms: point.at_ms });
            }
        }
        if point.features[SILENCE] >= params.silent_after_intro as f32 {
            return Some(Decision { status: Status::Person, cause: Cause::SilentAfterIntro, at_ms: point.at_ms });
        }
    }
    call.fallback
}

/// The figures that matter for a set of calls and their decisions.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    humans: usize,
    humans_called_machine: usize,
    /// People decided more than 2 s after their greeting ended, or never.
    humans_late: usize,
    human_p90_after_greeting_ms: i64,
    machines: usize,
    machines_called_machine: usize,
    machine_p50_ms: i64,
}

impl Figures {
    fn of<'a>(calls: impl Iterator<Item = (&'a CallTimeline, Option<Decision>)>) -> Figures {
        let mut f = Figures::default();
        let (mut after, mut machine_ms) = (Vec::new(), Vec::new());
        for (call, d) in calls {
            let machine = d.is_some_and(|d| d.status == Status::Machine);
            if call.label.expected_status == "machine" {
                f.machines += 1;
                f.machines_called_machine += usize::from(machine);
                if let Some(d) = d {
                    machine_ms.push(d.at_ms as i64);
                }
            } else {
                f.humans += 1;
                f.humans_called_machine += usize::from(machine);
                match (d, call.label.greeting_end_ms()) {
                    (Some(d), Some(end)) if !machine => {
                        let late = d.at_ms as i64 - end as i64;
                        after.push(late);
                        f.humans_late += usize::from(late > 2000);
                    }
                    (None, _) => f.humans_late += 1,
                    _ => {}
                }
            }
        }
        let pick = |mut v: Vec<i64>, q: f64| {
            v.sort_unstable();
            if v.is_empty() {
                0
            } else {
                v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
            }
        };
        f.human_p90_after_greeting_ms = pick(after, 0.9);
        f.machine_p50_ms = pick(machine_ms, 0.5);
        f
    }

    fn cost(&self) -> Option<f64> {
        if self.human_p90_after_greeting_ms > 1000 || self.machine_p50_ms > 3500 {
            return None;
        }
        Some(10.0 * self.humans_called_machine as f64 + 3.0 * self.humans_late as f64 + (self.machines - self.machines_called_machine) as f64)
    }

    fn line(&self, what: &str) -> String {
        let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
        format!(
            "{what}: humans called machine {}/{} ({:.1}%), humans decided over 2 s after their greeting {}, human p90 after greeting {} ms; machines called machine {}/{} ({:.1}%), machine p50 {} ms",
            self.humans_called_machine,
            self.humans,
            pct(self.humans_called_machine, self.humans),
            self.humans_late,
            self.human_p90_after_greeting_ms,
            self.machines_called_machine,
            self.machines,
            pct(self.machines_called_machine, self.machines),
            self.machine_p50_ms
        )
    }
}

/// The thresholds tried, from "every timer's verdict stands" (0) up; finer where a trained model's
/// threshold falls, as there a step of 0.01 moves the machines' median decision by 100 ms and the
/// people called machines by a third.
const MACHINE_AT: [f32; 20] = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.96, 0.965, 0.97, 0.975, 0.98, 0.985, 0.99];

/// Figures of `members` (indices into `calls`) decided with `policy`.
fn figures_with(calls: &[CallTimeline], probabilities: &[Vec<f32>], members: &[usize], params: &Params, policy: &Policy) -> Figures {
    Figures::of(members.iter().map(|&i| (&calls[i], simulate(&calls[i], &probabilities[i], params, policy))))
}

fn choose_policy(calls: &[CallTimeline], probabilities: &[Vec<f32>], members: &[usize], params: &Params) -> Result<(Policy, Figures), String> {
    let mut best: Option<(f64, Policy, Figures)> = None;
    for &machine_at in &MACHINE_AT {
        let policy = Policy { machine_at };
        let figures = figures_with(calls, probabilities, members, params, &policy);
        // Ties go to the lower threshold: the nearer the rules, the better understood.
        if let Some(cost) = figures.cost() {
            if best.as_ref().is_none_or(|(b, _, _)| cost < *b) {
                best = Some((cost, policy, figures));
            }
        }
    }
    best.map(|(_, p, f)| (p, f)).ok_or_else(|| "no threshold keeps the people's p90 within 1 s of their greeting and the machines' p50 within 3.5 s".into())
}

/// Trains on `dirs` and writes the model to `out`; returns the lines to print.
pub fn run(dirs: &[PathBuf], params: &Params, opts: &Options, out: &Path) -> Result<Vec<String>, String> {
    if opts.holdout_percent > 50 {
        return Err("--holdout is a percent from 0 to 50".into());
    }
    let collecting = Params { decision: DecisionMode::Model, ..params.clone() };
    let rules = Params { decision: DecisionMode::Rules, ..params.clone() };
    // (folder, label, whether the folder chooses the policy)
    let mut labelled = Vec::new();
    for (dir, chooses) in dirs.iter().map(|d| (d, false)).chain(opts.policy_on.iter().map(|d| (d, true))) {
        for label in read_labels(&dir.join("labels.csv"))? {
            if !matches!(label.truth.as_str(), "fax" | "sit") {
                labelled.push((dir.clone(), label, chooses));
            }
        }
    }
    let bar = ProgressBar::new(labelled.len() as u64);
    bar.set_style(ProgressStyle::with_template("timelines {bar:40} {pos}/{len} {msg}").expect("static template is valid"));
    let mut calls = Vec::with_capacity(labelled.len());
    let mut chooses_policy = Vec::with_capacity(labelled.len());
    for (dir, label, chooses) in labelled {
        chooses_policy.push(chooses);
        let path = dir.join(&label.file);
        bar.set_message(label.file.clone());
        let audio = read_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (points, fallback) = collect(&audio, &collecting).map_err(|e| format!("{}: {e}", path.display()))?;
        let rules_decision = analyze_with(&audio, &rules, None).map_err(|e| format!("{}: {e}", path.display()))?.decision;
        calls.push(CallTimeline { folder: dir.display().to_string(), label, points, fallback, rules: rules_decision });
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(dump) = &opts.dump {
        write_dump(dump, &calls)?;
    }

    let parts: Vec<Part> =
        calls.iter().zip(&chooses_policy).map(|(c, &chooses)| if chooses { Part::Policy } else { part_of(&c.label, opts) }).collect();
    let mut rows = Vec::new();
    for (call, part) in calls.iter().zip(&parts) {
        if *part != Part::Fit || call.points.is_empty() {
            continue;
        }
        let proposed: Vec<&TimelinePoint> = call.points.iter().filter(|p| timer_says_machine(p, params).is_some()).collect();
        let weight = 1.0 / proposed.len().max(1) as f64;
        let target = call.label.expected_status == "machine";
        rows.extend(proposed.iter().map(|p| Row { features: p.features, target, weight }));
    }
    let fit_calls = parts.iter().filter(|p| **p == Part::Fit).count();
    let bar = ProgressBar::new(opts.boost.trees as u64);
    bar.set_style(ProgressStyle::with_template("trees {bar:40} {pos}/{len}").expect("static template is valid"));
    let ensemble = boost::train(&rows, &opts.boost, &mut |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();

    let mut model = DecisionModel::new(ensemble.base, ensemble.trees, Policy { machine_at: 0.5 }, serde_json::Value::Null)?;
    let probabilities: Vec<Vec<f32>> = calls.iter().map(|c| c.points.iter().map(|p| sigmoid(model.score(&p.features))).collect()).collect();
    let of_part = |part: Part| parts.iter().enumerate().filter(|(_, p)| **p == part).map(|(i, _)| i).collect::<Vec<usize>>();
    let policy_calls = of_part(Part::Policy);
    let (policy, policy_figures) = choose_policy(&calls, &probabilities, &policy_calls, params)?;
    model.policy = policy.clone();

    let held_back = of_part(Part::HeldBack);
    let learned = figures_with(&calls, &probabilities, &held_back, params, &policy);
    let by_rules = Figures::of(held_back.iter().map(|&i| (&calls[i], calls[i].rules)));
    let folders: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let policy_folders: Vec<String> = opts.policy_on.iter().map(|d| d.display().to_string()).collect();
    let split = if policy_folders.is_empty() {
        format!("{} chose the policy, {} held back (voices in one part only)", policy_calls.len(), held_back.len())
    } else {
        format!(
            "{} held back (voices in one part only); {} calls from {} chose the policy",
            held_back.len(),
            policy_calls.len(),
            policy_folders.join(", ")
        )
    };
    let lines = vec![
        format!(
            "calls: {} (fax and SIT left out: tones decide them) from {}; {} fit the trees, {split}",
            chooses_policy.iter().filter(|chooses| !**chooses).count(),
            folders.join(", "),
            fit_calls,
        ),
        format!(
            "model: {} trees of depth {}, learning rate {}, from {} points where a timer said machine; a timer's machine verdict stands from p >= {}",
            opts.boost.trees, opts.boost.depth, opts.boost.learning_rate, rows.len(), policy.machine_at
        ),
        policy_figures.line("policy calls, model"),
        learned.line("held-back calls, model"),
        by_rules.line("held-back calls, rules"),
    ];
    model.notes = serde_json::json!({
        "trained_on": folders,
        "policy_on": policy_folders,
        "seed": opts.seed,
        "holdout_percent": opts.holdout_percent,
        "report": lines,
    });
    let mut file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    file.write_all(model.to_json().as_bytes()).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(lines)
}

fn write_dump(path: &Path, calls: &[CallTimeline]) -> Result<(), String> {
    let mut out = String::from("folder,file,truth,expected_status,greeting_end_ms,fallback,fallback_ms,at_ms");
    for name in FEATURE_NAMES {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for c in calls {
        let fallback = c.fallback.map_or(("none".to_string(), String::new()), |d| (format!("{}/{}", d.status.as_str(), d.cause.as_str()), d.at_ms.to_string()));
        for p in &c.points {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{}",
                c.folder,
                c.label.file,
                c.label.truth,
                c.label.expected_status,
                c.label.greeting_end_ms().map_or(String::new(), |v| v.to_string()),
                fallback.0,
                fallback.1,
                p.at_ms
            ));
            for f in p.features {
                out.push_str(&format!(",{f}"));
            }
            out.push('\n');
        }
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voice_is_the_source_up_to_its_second_colon() {
        let mut l = Label {
            file: "a.wav".into(),
            truth: "human".into(),
            expected_status: "person".into(),
            greeting_ms: None,
            initial_silence_ms: None,
            beep_ms: None,
            source: "espeak-ng:en-us+f2:s170:p55".into(),
            condition: String::new(),
        };
        assert_eq!(voice(&l), "espeak-ng:en-us+f2");
        l.source = "asterisk:vm-intro".into();
        assert_eq!(voice(&l), "asterisk:vm-intro");
        l.source.clear();
        assert_eq!(voice(&l), "a.wav");
    }

    #[test]
    fn the_split_is_by_voice_and_stable() {
        assert_eq!(stable_hash(7, "espeak-ng:en-us+f2"), stable_hash(7, "espeak-ng:en-us+f2"));
        assert_ne!(stable_hash(7, "espeak-ng:en-us+f2"), stable_hash(8, "espeak-ng:en-us+f2"));
    }
}
