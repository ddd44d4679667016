//! `amd train-beep`: learns the beep model from labelled calls (folders in the corpus format,
//! whose `beep_ms` says where each machine's beep starts).
//!
//! 1. Each call (but fax and SIT calls) is run through the detector whole, with a beep model
//!    that never fires: every tone in the beep band is kept with its features at every block
//!    (see [`Detector::collect_tone_candidates`]), with the decision the timers took, where the
//!    greeting's end was called by silence or timeout after `machine`, and where the late watch
//!    ends after `person`. Nothing collected depends on a beep model, so the same calls always
//!    give the same rows.
//! 2. The rows of the training folders fit the trees (boost.rs): a tone that starts within
//!    BEEP_START_SLACK_MS of a labelled beep, for its first BEEP_ROWS_MS, is a beep; one on a
//!    person's call, a silent call, a machine without a beep or before the beep is none; the
//!    rest (what follows a beep) is left out. Each tone weighs as much as any other, however
//!    long it lasts.
//! 3. The policy (a threshold for each place a beep is looked for) is chosen on the `--policy-on`
//!    folders by replaying their calls: the first tone that passes the gates (`may_be_beep`) and
//!    whose probability reaches its place's threshold is the beep. A person (or a silent call)
//!    called a machine by a beep, and a late machine reported on one, cost ten each; a beep not
//!    found within FOUND_WITHIN_MS of its start, and a beep reported where there is none (or
//!    before the real one), one each. Late machines may be reported on at most
//!    LATE_ON_PEOPLE_PER_THOUSAND in a thousand of the calls that are no machine.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use crate::analyzer::analyze::{at_detector_rate, FRAME_MS};
use crate::analyzer::eval::{read_labels, Label};
use crate::analyzer::wav::read_file;
use crate::detector::{
    may_be_beep, BeepContext, BeepModel, BeepPolicy, Cause, Decision, Detector, Event, MessageEndKind, Params, Status, ToneCandidate, BEEP_FEATURE_COUNT,
};
use crate::tools::boost::{self, Row};

/// A tone that starts this close to a labelled beep's start is that beep (the tracker dates a
/// tone's start from a window that is longer than a block).
const BEEP_START_SLACK_MS: i64 = 80;
/// A beep's rows are its first this many ms: what the model is asked while the beep can still
/// be found in time.
const BEEP_ROWS_MS: u64 = 300;
/// A tone that starts this long before a labelled beep is something else (a word's vowel, a
/// note in the room); between it and the beep's slack, rows are left out.
const BEFORE_BEEP_MS: i64 = 200;
/// A beep is found when it is reported at most this long after it starts (docs/accuracy.md).
const FOUND_WITHIN_MS: u64 = 150;
/// The most late machines the policy may report on people and silent calls, per thousand of them.
const LATE_ON_PEOPLE_PER_THOUSAND: f64 = 1.0;
/// Thresholds tried for each place.
const THRESHOLDS: [f32; 14] = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995];

pub const DEFAULT_TREES: usize = 300;
pub const DEFAULT_DEPTH: usize = 3;

pub struct Options {
    pub boost: boost::Settings,
    /// Folders whose calls choose the policy.
    pub policy_on: Vec<PathBuf>,
    /// Also write every tone judged on the policy calls as CSV, with its probability.
    pub dump: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options { boost: boost::Settings { trees: DEFAULT_TREES, depth: DEFAULT_DEPTH, ..boost::Settings::default() }, policy_on: Vec::new(), dump: None }
    }
}

/// One labelled call as collected.
struct CallTones {
    folder: String,
    label: Label,
    candidates: Vec<ToneCandidate>,
    decision: Option<Decision>,
    /// After `machine`: when the greeting's end was called by silence or timeout (no beep can
    /// be reported after it).
    watch_end_ms: Option<u64>,
    /// After `person`: when the late watch ends.
    late_end_ms: Option<u64>,
}

fn never() -> Arc<BeepModel> {
    let policy = BeepPolicy { before_decision_at: 1.0, after_machine_at: 1.0, after_person_at: 1.0 };
    Arc::new(BeepModel::new(0.0, Vec::new(), policy, serde_json::Value::Null).expect("an empty model is valid"))
}

fn collect(folder: &Path, label: Label, params: &Params) -> Result<CallTones, String> {
    let path = &folder.join(&label.file);
    let fail = |e: String| format!("{}: {e}", path.display());
    let audio = read_file(path).map_err(|e| fail(e.to_string()))?;
    let audio = at_detector_rate(&audio).map_err(|e| fail(e.to_string()))?;
    let mut detector = Detector::new(params, audio.sample_rate).map_err(|e| fail(e.to_string()))?;
    detector.set_beep_model(never());
    detector.collect_tone_candidates();
    let frame = (audio.sample_rate * FRAME_MS / 1000) as usize;
    let mut watch_end_ms = None;
    for chunk in audio.samples.chunks(frame) {
        detector.push(chunk, &mut |e| {
            if let Event::MessageEnd(m) = e {
                if m.kind != MessageEndKind::Beep {
                    watch_end_ms = Some(m.at_ms);
                }
            }
        });
    }
    let decision = detector.decision();
    let late_end_ms = decision.filter(|d| d.status != Status::Machine).map(|d| d.at_ms + u64::from(params.late_machine_window));
    Ok(CallTones { folder: folder.display().to_string(), label, candidates: detector.take_tone_candidates(), decision, watch_end_ms, late_end_ms })
}

/// Whether a tone that started at `start_ms` is the call's labelled beep.
fn is_the_beep(label: &Label, start_ms: u64) -> bool {
    label.beep_ms.is_some_and(|b| (start_ms as i64 - b as i64).abs() <= BEEP_START_SLACK_MS)
}

/// The training rows of one call: (row, tone start) pairs, weighted per tone afterwards.
fn rows_of(call: &CallTones) -> Vec<(Row<BEEP_FEATURE_COUNT>, u64)> {
    let mut rows = Vec::new();
    for c in &call.candidates {
        let target = match call.label.beep_ms {
            Some(_) if is_the_beep(&call.label, c.start_ms) => {
                if c.at_ms > c.start_ms + BEEP_ROWS_MS {
                    continue;
                }
                true
            }
            Some(b) if (c.start_ms as i64) < b as i64 - BEFORE_BEEP_MS => false,
            Some(_) => continue,
            None => false,
        };
        rows.push((Row { features: c.features, target, weight: 1.0 }, c.start_ms));
    }
    // Each tone weighs one in all.
    let mut i = 0;
    while i < rows.len() {
        let start = rows[i].1;
        let n = rows[i..].iter().take_while(|r| r.1 == start).count();
        for r in &mut rows[i..i + n] {
            r.0.weight = 1.0 / n as f64;
        }
        i += n;
    }
    rows
}

/// Where a call's tone was judged.
fn context_at(call: &CallTones, at_ms: u64) -> Option<BeepContext> {
    match call.decision {
        Some(d) if at_ms > d.at_ms => {
            if d.status == Status::Machine {
                let voicemail = !matches!(d.cause, Cause::Fax | Cause::Sit);
                (voicemail && call.watch_end_ms.is_none_or(|end| at_ms <= end)).then_some(BeepContext::AfterMachine)
            } else {
                call.late_end_ms.is_some_and(|end| at_ms <= end).then_some(BeepContext::AfterPerson)
            }
        }
        _ => Some(BeepContext::BeforeDecision),
    }
}

/// What a policy does on a set of calls.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    people: usize,
    silent: usize,
    beeps: usize,
    beeps_found: usize,
    /// People and silent calls a beep called machine (their timers had not).
    people_called_machine: usize,
    late_on_people: usize,
    late_on_silence: usize,
    /// Beeps reported where there is none, or before the real one.
    false_beeps: usize,
}

impl Figures {
    fn of(calls: &[CallTones], probabilities: &[Vec<f32>], policy: &BeepPolicy) -> Figures {
        let mut f = Figures::default();
        for (call, probs) in calls.iter().zip(probabilities) {
            let person_call = call.label.expected_status != "machine";
            f.people += usize::from(call.label.truth == "human");
            f.silent += usize::from(call.label.truth == "silence");
            f.beeps += usize::from(call.label.beep_ms.is_some());
            let fired = call.candidates.iter().zip(probs).find_map(|(c, &p)| {
                let context = context_at(call, c.at_ms)?;
                (may_be_beep(&c.features, context) && p >= policy.threshold(context)).then_some((c, context))
            });
            let Some((c, context)) = fired else { continue };
            let timers_said_machine = call.decision.is_some_and(|d| d.status == Status::Machine);
            if person_call {
                match context {
                    BeepContext::BeforeDecision if !timers_said_machine => f.people_called_machine += 1,
                    BeepContext::AfterPerson if call.label.truth == "silence" => f.late_on_silence += 1,
                    BeepContext::AfterPerson => f.late_on_people += 1,
                    _ => {}
                }
            } else if let Some(beep) = call.label.beep_ms {
                if is_the_beep(&call.label, c.start_ms) && c.at_ms <= beep + FOUND_WITHIN_MS {
                    f.beeps_found += 1;
                } else if !is_the_beep(&call.label, c.start_ms) {
                    f.false_beeps += 1;
                }
            } else {
                f.false_beeps += 1;
            }
        }
        f
    }

    fn allowed(&self) -> bool {
        (self.late_on_people + self.late_on_silence) as f64 <= LATE_ON_PEOPLE_PER_THOUSAND * (self.people + self.silent) as f64 / 1000.0
    }

    fn cost(&self) -> f64 {
        let on_people = self.people_called_machine + self.late_on_people + self.late_on_silence;
        10.0 * on_people as f64 + (self.beeps - self.beeps_found) as f64 + self.false_beeps as f64
    }

    fn line(&self, what: &str) -> String {
        let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
        format!(
            "{what}: beeps found within {FOUND_WITHIN_MS} ms {}/{} ({:.1}%), beeps where there is none or early {}; people and silent calls called machine by a beep {}, late machines on people {}/{} and on silent calls {}/{}",
            self.beeps_found,
            self.beeps,
            pct(self.beeps_found, self.beeps),
            self.false_beeps,
            self.people_called_machine,
            self.late_on_people,
            self.people,
            self.late_on_silence,
            self.silent
        )
    }
}

fn choose_policy(calls: &[CallTones], probabilities: &[Vec<f32>]) -> Result<(BeepPolicy, Figures), String> {
    let mut best: Option<(f64, BeepPolicy, Figures)> = None;
    for &before_decision_at in &THRESHOLDS {
        for &after_machine_at in &THRESHOLDS {
            for &after_person_at in &THRESHOLDS {
                let policy = BeepPolicy { before_decision_at, after_machine_at, after_person_at };
                let f = Figures::of(calls, probabilities, &policy);
                // Ties go to the higher thresholds (tried last): the fewer tones taken, the safer.
                if f.allowed() && best.as_ref().is_none_or(|(b, _, _)| f.cost() <= *b) {
                    best = Some((f.cost(), policy, f));
                }
            }
        }
    }
    best.map(|(_, p, f)| (p, f)).ok_or_else(|| "no policy keeps late machines on people and silent calls within their budget".into())
}

fn collect_all(dirs: &[PathBuf], params: &Params, what: &str) -> Result<Vec<CallTones>, String> {
    let mut labelled = Vec::new();
    for dir in dirs {
        for label in read_labels(&dir.join("labels.csv"))? {
            if !matches!(label.truth.as_str(), "fax" | "sit") {
                labelled.push((dir, label));
            }
        }
    }
    let bar = ProgressBar::new(labelled.len() as u64);
    bar.set_style(ProgressStyle::with_template(&format!("{what} {{bar:40}} {{pos}}/{{len}}")).expect("static template is valid"));
    let mut calls = Vec::with_capacity(labelled.len());
    for (dir, label) in labelled {
        calls.push(collect(dir, label, params)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(calls)
}

/// Trains on `dirs`, chooses the policy on `opts.policy_on`, writes the model to `out`; returns
/// the lines to print.
pub fn run(dirs: &[PathBuf], params: &Params, opts: &Options, out: &Path) -> Result<Vec<String>, String> {
    if opts.policy_on.is_empty() {
        return Err("--policy-on: name the labelled folders that choose the thresholds (not the training ones)".into());
    }
    // Collected as the calls are analysed in the field: the greeting's end and late machines
    // listened for.
    let params = Params { detect_message_end: true, detect_late_machine: true, ..params.clone() };
    let fit = collect_all(dirs, &params, "training calls")?;
    let rows: Vec<Row<BEEP_FEATURE_COUNT>> = fit.iter().flat_map(|c| rows_of(c).into_iter().map(|(r, _)| r)).collect();
    let beeps = rows.iter().filter(|r| r.target).map(|r| r.weight).sum::<f64>().round();
    let bar = ProgressBar::new(opts.boost.trees as u64);
    bar.set_style(ProgressStyle::with_template("trees {bar:40} {pos}/{len}").expect("static template is valid"));
    let ensemble = boost::train(&rows, &opts.boost, &mut |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    let mut model = BeepModel::new(ensemble.base, ensemble.trees, BeepPolicy { before_decision_at: 1.0, after_machine_at: 1.0, after_person_at: 1.0 }, serde_json::Value::Null)?;

    let policy_calls = collect_all(&opts.policy_on, &params, "policy calls")?;
    let probabilities: Vec<Vec<f32>> = policy_calls.iter().map(|c| c.candidates.iter().map(|t| model.probability(&t.features)).collect()).collect();
    let (policy, figures) = choose_policy(&policy_calls, &probabilities)?;
    if let Some(dump) = &opts.dump {
        write_dump(dump, &policy_calls, &probabilities)?;
    }
    model.policy = policy.clone();
    let fit_probabilities: Vec<Vec<f32>> = fit.iter().map(|c| c.candidates.iter().map(|t| model.probability(&t.features)).collect()).collect();
    let fit_figures = Figures::of(&fit, &fit_probabilities, &policy);

    let folders: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let policy_folders: Vec<String> = opts.policy_on.iter().map(|d| d.display().to_string()).collect();
    let lines = vec![
        format!(
            "calls: {} (fax and SIT left out) from {}; {} rows from {} tones, {beeps:.0} of them beeps",
            fit.len(),
            folders.join(", "),
            rows.len(),
            rows.iter().map(|r| r.weight).sum::<f64>().round()
        ),
        format!(
            "model: {} trees of depth {}, learning rate {}; a tone is the beep from p >= {} before the decision, {} after machine, {} after person",
            opts.boost.trees, opts.boost.depth, opts.boost.learning_rate, policy.before_decision_at, policy.after_machine_at, policy.after_person_at
        ),
        fit_figures.line("training calls"),
        figures.line(&format!("policy calls ({} from {})", policy_calls.len(), policy_folders.join(", "))),
    ];
    model.notes = serde_json::json!({ "trained_on": folders, "policy_on": policy_folders, "report": lines });
    let mut file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    file.write_all(model.to_json().as_bytes()).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(lines)
}

fn write_dump(path: &Path, calls: &[CallTones], probabilities: &[Vec<f32>]) -> Result<(), String> {
    let mut out = String::from("folder,file,truth,beep_ms,decision,decision_ms,context,at_ms,start_ms,the_beep,probability");
    for name in crate::detector::BEEP_FEATURE_NAMES {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for (call, probs) in calls.iter().zip(probabilities) {
        let decision = call.decision.map_or(("none".to_string(), String::new()), |d| (format!("{}/{}", d.status.as_str(), d.cause.as_str()), d.at_ms.to_string()));
        for (c, p) in call.candidates.iter().zip(probs) {
            let context = match context_at(call, c.at_ms) {
                Some(BeepContext::BeforeDecision) => "before",
                Some(BeepContext::AfterMachine) => "after_machine",
                Some(BeepContext::AfterPerson) => "after_person",
                None => "none",
            };
            out.push_str(&format!(
                "{},{},{},{},{},{},{context},{},{},{},{p}",
                call.folder,
                call.label.file,
                call.label.truth,
                call.label.beep_ms.map_or(String::new(), |b| b.to_string()),
                decision.0,
                decision.1,
                c.at_ms,
                c.start_ms,
                u8::from(is_the_beep(&call.label, c.start_ms)),
            ));
            for f in c.features {
                out.push_str(&format!(",{f}"));
            }
            out.push('\n');
        }
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}
