//! Scores the detector on labeled recordings (a folder with labels.csv in the corpus format).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::detector::{Cause, Decision, LateMachine, MessageEnd, MessageEndKind};

/// One row of labels.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub file: String,
    pub truth: String,
    pub expected_status: String,
    pub greeting_ms: Option<u64>,
    pub initial_silence_ms: Option<u64>,
    pub beep_ms: Option<u64>,
    /// The voice, engine or recording the call was made with (may be empty).
    pub source: String,
    pub condition: String,
}

impl Label {
    /// When the first speech region ended (answer to end of greeting), for clips with speech.
    pub fn greeting_end_ms(&self) -> Option<u64> {
        match (self.initial_silence_ms, self.greeting_ms) {
            (Some(s), Some(g)) if g > 0 => Some(s + g),
            _ => None,
        }
    }

    /// The SIT code the clip was made with, from a `sit_XX` condition tag.
    pub fn sit_code(&self) -> Option<&str> {
        self.condition.split('+').find_map(|tag| tag.strip_prefix("sit_"))
    }
}

/// Splits one CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("never empty").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            _ => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

/// Reads labels.csv; columns are found by name, so extra columns are fine.
pub fn read_labels(path: &Path) -> Result<Vec<Label>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Spreadsheets saving "CSV UTF-8" put a byte-order mark before the first column's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header = split_csv(lines.next().ok_or_else(|| format!("{}: empty", path.display()))?.1);
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let need = |name: &str| col(name).ok_or_else(|| format!("{}: no column '{name}'", path.display()));
    let (file, truth, expected) = (need("file")?, need("truth")?, need("expected_status")?);
    let (greeting, initial, beep, condition) = (col("greeting_ms"), col("initial_silence_ms"), col("beep_ms"), col("condition"));
    let source = col("source");
    let mut labels = Vec::new();
    for (n, line) in lines {
        let f = split_csv(line);
        let get = |i: usize| f.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
        let num = |i: Option<usize>| i.and_then(|i| get(i).parse::<u64>().ok());
        if f.len() <= file.max(truth).max(expected) {
            return Err(format!("{}: line {} has too few columns", path.display(), n + 1));
        }
        // Spreadsheets capitalise; a typo would quietly score every such clip wrong.
        let status = get(expected).to_ascii_lowercase();
        if !matches!(status.as_str(), "person" | "machine" | "unsure") {
            return Err(format!("{}: line {}: expected_status '{status}' is not person, machine or unsure", path.display(), n + 1));
        }
        if get(truth).is_empty() || get(file).is_empty() {
            return Err(format!("{}: line {}: empty file or truth", path.display(), n + 1));
        }
        labels.push(Label {
            file: get(file),
            truth: get(truth).to_ascii_lowercase(),
            expected_status: status,
            greeting_ms: num(greeting),
            initial_silence_ms: num(initial),
            beep_ms: num(beep),
            source: source.map(get).unwrap_or_default(),
            condition: condition.map(get).unwrap_or_default(),
        });
    }
    Ok(labels)
}

/// What the detector said about one labeled clip.
#[derive(Debug, Clone)]
pub struct Scored {
    pub label: Label,
    pub decision: Option<Decision>,
    /// The end of the greeting found after a machine decision (eval runs with detect_message_end).
    pub message_end: Option<MessageEnd>,
    pub sit: Option<&'static str>,
    /// A machine reported after a `person` (or `unsure`) decision (with detect_late_machine).
    pub late: Option<LateMachine>,
}

impl Scored {
    pub fn status(&self) -> &'static str {
        self.decision.map_or("none", |d| d.status.as_str())
    }

    fn cause(&self) -> Option<Cause> {
        self.decision.map(|d| d.cause)
    }

    /// Where the detector heard a beep start, whether it decided on it or found the greeting's end.
    fn beep_heard_ms(&self) -> Option<u64> {
        match self.message_end {
            Some(MessageEnd { kind: MessageEndKind::Beep, beep: Some(b), .. }) => Some(b.start_ms),
            Some(MessageEnd { kind: MessageEndKind::Beep, at_ms, .. }) => Some(at_ms),
            _ if self.cause() == Some(Cause::Beep) => self.decision.map(|d| d.at_ms),
            _ => None,
        }
    }
}

/// One line for a call the detector got wrong: its status is not the expected one, or its beep
/// was not found within [`BEEP_FOUND_WITHIN_MS`]. `None` for a call it got right.
pub fn mistake(s: &Scored) -> Option<String> {
    let got = s.decision.map_or("no decision".to_string(), |d| format!("{} {} at {} ms", d.status.as_str(), d.cause.as_str(), d.at_ms));
    let beep_missed = match (s.label.beep_ms, s.message_end) {
        (Some(beep), Some(MessageEnd { kind: MessageEndKind::Beep, at_ms, .. })) => {
            !(0..=BEEP_FOUND_WITHIN_MS).contains(&(at_ms as i64 - beep as i64))
        }
        (Some(_), _) => s.label.truth == "machine",
        (None, _) => false,
    };
    let wrong_status = s.status() != s.label.expected_status;
    if !wrong_status && !beep_missed {
        return None;
    }
    let what = if wrong_status { "wrong status" } else { "beep missed" };
    let end = s.message_end.map_or("-".to_string(), |m| format!("{} at {} ms", m.kind.as_str(), m.at_ms));
    let beep = s.label.beep_ms.map_or("-".to_string(), |b| format!("{b} ms"));
    Some(format!(
        "{}: {what}: truth {} (expected {}), got {got}; message end {end}, labelled beep {beep}; {}",
        s.label.file, s.label.truth, s.label.expected_status, s.label.condition
    ))
}

/// How far after the beep's start the message end may be reported and still count as found.
pub const BEEP_FOUND_WITHIN_MS: i64 = 150;
/// A beep heard this much before the labelled one is a false beep inside the greeting.
const EARLY_BEEP_TOLERANCE_MS: u64 = 50;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Percentiles {
    pub count: usize,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

fn percentiles(mut values: Vec<i64>) -> Percentiles {
    values.sort_unstable();
    // Nearest-rank percentile: the smallest value with at least p of the data at or below it.
    let pick = |p: f64| {
        if values.is_empty() {
            None
        } else {
            let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
            Some(values[rank - 1])
        }
    };
    Percentiles { count: values.len(), p50: pick(0.5), p90: pick(0.9) }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    pub clips: usize,
    /// Share of clips whose status is the expected one.
    pub accuracy: f64,
    /// Decision time from answer, ms.
    pub decision_ms: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub clips: usize,
    /// truth -> status -> count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub classes: BTreeMap<String, ClassReport>,
    pub overall_accuracy: f64,
    pub humans_called_person: f64,
    pub humans_called_machine: f64,
    pub machines_called_machine: f64,
    /// For human clips: decision time after the end of the greeting, ms.
    pub human_decision_after_greeting_ms: Percentiles,
    pub message_end: MessageEndReport,
    pub tones: ToneReport,
    /// Late machines reported (with detect_late_machine), by truth.
    pub late_machines: BTreeMap<String, usize>,
}

/// How well the end of machine greetings is found (clips whose label has a beep time).
#[derive(Debug, Clone, Serialize)]
pub struct MessageEndReport {
    pub clips_with_beep: usize,
    /// Share of them whose message end is the beep, reported 0..=BEEP_FOUND_WITHIN_MS after its start.
    pub beep_found: f64,
    /// The same over those of them decided `machine`: how well the beep is found once a dialer
    /// waits for it.
    pub clips_with_beep_called_machine: usize,
    pub beep_found_when_called_machine: f64,
    /// Message end time minus the labelled beep start, over clips whose message end was a beep.
    pub beep_timing_error_ms: Percentiles,
    /// Clips (of all) where a beep was reported on a human, or before the real beep of a machine.
    pub false_beeps: usize,
    pub false_beep_share: f64,
    /// How the greeting ended, over machine clips called machine: beep/silence/timeout/none.
    pub kinds: BTreeMap<String, usize>,
}

/// Fax and special information tones.
#[derive(Debug, Clone, Serialize)]
pub struct ToneReport {
    /// Share of fax clips with amd_result=fax, of sit clips with amd_result=sit.
    pub fax_accuracy: f64,
    pub sit_accuracy: f64,
    /// Share of sit clips with a condition tag whose amd_sit matches it.
    pub sit_code_accuracy: f64,
    /// Human or machine clips called fax or sit.
    pub speech_called_tone: usize,
    /// Fax and sit clips together: named as such (amd_result fax or sit), and called `person`.
    pub tone_clips: usize,
    pub tones_named: f64,
    pub tones_called_person: usize,
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

pub fn report(scored: &[Scored]) -> Report {
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut by_class: BTreeMap<String, Vec<&Scored>> = BTreeMap::new();
    for s in scored {
        *confusion.entry(s.label.truth.clone()).or_default().entry(s.status().to_string()).or_default() += 1;
        by_class.entry(s.label.truth.clone()).or_default().push(s);
    }
    let classes = by_class
        .iter()
        .map(|(truth, items)| {
            let right = items.iter().filter(|s| s.status() == s.label.expected_status).count();
            let times = items.iter().filter_map(|s| s.decision.map(|d| d.at_ms as i64)).collect();
            (truth.clone(), ClassReport { clips: items.len(), accuracy: share(right, items.len()), decision_ms: percentiles(times) })
        })
        .collect();
    let humans: Vec<&Scored> = scored.iter().filter(|s| s.label.truth == "human").collect();
    let machines: Vec<&Scored> = scored.iter().filter(|s| s.label.truth == "machine").collect();
    let count = |v: &[&Scored], status: &str| v.iter().filter(|s| s.status() == status).count();
    let after_greeting = humans
        .iter()
        .filter_map(|s| Some(s.decision?.at_ms as i64 - s.label.greeting_end_ms()? as i64))
        .collect();
    let right = scored.iter().filter(|s| s.status() == s.label.expected_status).count();
    let message_end = message_end_report(scored);
    let tones = tone_report(scored);
    Report {
        clips: scored.len(),
        confusion,
        classes,
        overall_accuracy: share(right, scored.len()),
        humans_called_person: share(count(&humans, "person"), humans.len()),
        humans_called_machine: share(count(&humans, "machine"), humans.len()),
        machines_called_machine: share(count(&machines, "machine"), machines.len()),
        human_decision_after_greeting_ms: percentiles(after_greeting),
        message_end,
        tones,
        late_machines: late_machines(scored),
    }
}

fn late_machines(scored: &[Scored]) -> BTreeMap<String, usize> {
    let mut by_truth = BTreeMap::new();
    for s in scored.iter().filter(|s| s.late.is_some()) {
        *by_truth.entry(s.label.truth.clone()).or_default() += 1;
    }
    by_truth
}

fn message_end_report(scored: &[Scored]) -> MessageEndReport {
    let with_beep: Vec<&Scored> = scored.iter().filter(|s| s.label.truth == "machine" && s.label.beep_ms.is_some()).collect();
    let mut errors = Vec::new();
    let (mut found, mut found_called_machine) = (0, 0);
    for s in &with_beep {
        let beep = s.label.beep_ms.expect("filtered") as i64;
        if let Some(MessageEnd { kind: MessageEndKind::Beep, at_ms, .. }) = s.message_end {
            let error = at_ms as i64 - beep;
            errors.push(error);
            if (0..=BEEP_FOUND_WITHIN_MS).contains(&error) {
                found += 1;
                found_called_machine += usize::from(s.status() == "machine");
            }
        }
    }
    let called_machine = with_beep.iter().filter(|s| s.status() == "machine").count();
    let false_beeps = scored
        .iter()
        .filter(|s| match (s.label.truth.as_str(), s.beep_heard_ms()) {
            ("human", Some(_)) => true,
            ("machine", Some(heard)) => s.label.beep_ms.is_none_or(|real| heard + EARLY_BEEP_TOLERANCE_MS < real),
            _ => false,
        })
        .count();
    let mut kinds = BTreeMap::new();
    for s in scored.iter().filter(|s| s.label.truth == "machine" && s.status() == "machine") {
        let kind = s.message_end.map_or("none", |m| m.kind.as_str());
        *kinds.entry(kind.to_string()).or_default() += 1;
    }
    MessageEndReport {
        clips_with_beep: with_beep.len(),
        beep_found: share(found, with_beep.len()),
        clips_with_beep_called_machine: called_machine,
        beep_found_when_called_machine: share(found_called_machine, called_machine),
        beep_timing_error_ms: percentiles(errors),
        false_beeps,
        false_beep_share: share(false_beeps, scored.len()),
        kinds,
    }
}

fn tone_report(scored: &[Scored]) -> ToneReport {
    let of_truth = |truth: &str| scored.iter().filter(|s| s.label.truth == truth).collect::<Vec<_>>();
    let (fax, sit) = (of_truth("fax"), of_truth("sit"));
    let called = |v: &[&Scored], cause: Cause| v.iter().filter(|s| s.cause() == Some(cause)).count();
    let coded: Vec<&&Scored> = sit.iter().filter(|s| s.label.sit_code().is_some()).collect();
    let codes_right = coded.iter().filter(|s| s.sit == s.label.sit_code()).count();
    let speech_called_tone = scored
        .iter()
        .filter(|s| matches!(s.label.truth.as_str(), "human" | "machine") && matches!(s.cause(), Some(Cause::Fax | Cause::Sit)))
        .count();
    let named = called(&fax, Cause::Fax) + called(&sit, Cause::Sit);
    let tones_called_person = fax.iter().chain(&sit).filter(|s| s.status() == "person").count();
    ToneReport {
        tone_clips: fax.len() + sit.len(),
        tones_named: share(named, fax.len() + sit.len()),
        tones_called_person,
        fax_accuracy: share(called(&fax, Cause::Fax), fax.len()),
        sit_accuracy: share(called(&sit, Cause::Sit), sit.len()),
        sit_code_accuracy: share(codes_right, coded.len()),
        speech_called_tone,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn ms(p: &Percentiles) -> String {
    let f = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
    format!("p50 {} ms, p90 {} ms (n={})", f(p.p50), f(p.p90), p.count)
}

/// The plain-text form of a report.
pub fn render(r: &Report) -> String {
    let statuses = ["person", "machine", "unsure", "none"];
    let mut out = String::new();
    out.push_str(&format!("clips: {}\n\nconfusion (truth x status)\n{:<10}", r.clips, "truth"));
    for s in statuses {
        out.push_str(&format!("{s:>9}"));
    }
    out.push('\n');
    for (truth, row) in &r.confusion {
        out.push_str(&format!("{truth:<10}"));
        for s in statuses {
            out.push_str(&format!("{:>9}", row.get(s).copied().unwrap_or(0)));
        }
        out.push('\n');
    }
    out.push_str("\naccuracy per class (expected status)\n");
    for (truth, c) in &r.classes {
        out.push_str(&format!("{truth:<10}{:>7} of {:>3}   decision {}\n", pct(c.accuracy), c.clips, ms(&c.decision_ms)));
    }
    out.push_str(&format!(
        "\nhumans called person: {}\nhumans called machine: {}\nmachines called machine: {}\noverall accuracy: {}\n",
        pct(r.humans_called_person),
        pct(r.humans_called_machine),
        pct(r.machines_called_machine),
        pct(r.overall_accuracy)
    ));
    out.push_str(&format!("human decision after end of greeting: {}\n", ms(&r.human_decision_after_greeting_ms)));
    let m = &r.message_end;
    out.push_str(&format!(
        "\nmessage end (detect_message_end on)\nbeep found within {BEEP_FOUND_WITHIN_MS} ms of its start: {} of {} clips with a beep ({} of the {} called machine)\nbeep timing error (message end - beep start): {}\nfalse beeps (on a human, or before the real beep): {} clips ({})\n",
        pct(m.beep_found),
        m.clips_with_beep,
        pct(m.beep_found_when_called_machine),
        m.clips_with_beep_called_machine,
        ms(&m.beep_timing_error_ms),
        m.false_beeps,
        pct(m.false_beep_share)
    ));
    let kinds: Vec<String> = m.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    out.push_str(&format!("machines called machine, greeting ended by: {}\n", kinds.join(", ")));
    let t = &r.tones;
    out.push_str(&format!(
        "\nfax clips called fax: {}\nsit clips called sit: {}\nfax and sit named: {} of {} (called person: {})\nsit code right: {}\nhuman or machine clips called fax or sit: {}\n",
        pct(t.fax_accuracy),
        pct(t.sit_accuracy),
        pct(t.tones_named),
        t.tone_clips,
        t.tones_called_person,
        pct(t.sit_code_accuracy),
        t.speech_called_tone
    ));
    if !r.late_machines.is_empty() {
        let late: Vec<String> = r.late_machines.iter().map(|(truth, n)| format!("{truth} {n}")).collect();
        out.push_str(&format!("\nlate machines (after person or unsure, detect_late_machine): {}\n", late.join(", ")));
    }
    out
}

/// The headline figures of one report as a row of [`SUMMARY_HEADER`], for comparing folders.
pub fn summary_row(name: &str, r: &Report) -> String {
    let human_p90 = r.human_decision_after_greeting_ms.p90.map_or("-".to_string(), |v| v.to_string());
    let machine_p50 = r.classes.get("machine").and_then(|c| c.decision_ms.p50).map_or("-".to_string(), |v| v.to_string());
    format!(
        "{name:<24}{:>7}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>9}{:>9}",
        r.clips,
        pct(r.humans_called_person),
        pct(r.humans_called_machine),
        pct(r.machines_called_machine),
        pct(r.message_end.beep_found),
        pct(r.message_end.beep_found_when_called_machine),
        pct(r.message_end.false_beep_share),
        pct(r.tones.tones_named),
        human_p90,
        machine_p50,
    )
}

/// Column heads of [`summary_row`]: humans called person / machine, machines called machine,
/// beeps found (of all beep clips, of those called machine), false beeps (share of clips),
/// fax and SIT named, the humans' p90 after their greeting and the machines' p50 after answer.
pub const SUMMARY_HEADER: &str =
    "folder                    clips  H->per  H->mac  M->mac    beep  beep|M   fbeep  fax/sit  H p90ms  M p50ms";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{Cause, Status};

    fn label(truth: &str, expected: &str) -> Label {
        Label {
            file: "x.wav".into(),
            truth: truth.into(),
            expected_status: expected.into(),
            greeting_ms: Some(500),
            initial_silence_ms: Some(500),
            beep_ms: None,
            source: String::new(),
            condition: String::new(),
        }
    }

    fn scored(label: Label, decision: Option<Decision>) -> Scored {
        Scored { label, decision, message_end: None, sit: None, late: None }
    }

    #[test]
    fn message_end_and_tone_figures() {
        use crate::detector::Beep;
        let machine = |beep_ms: Option<u64>| Label { beep_ms, ..label("machine", "machine") };
        let d = |cause| Some(Decision { status: Status::Machine, cause, at_ms: 3000 });
        let end = |kind, at_ms, start_ms| Some(MessageEnd { kind, at_ms, beep: Some(Beep { start_ms, freq_hz: 1000, freq2_hz: None }) });
        let mut sit = scored(Label { condition: "lvl-20dB+sit_RO".into(), ..label("sit", "machine") }, d(Cause::Sit));
        sit.sit = Some("RO");
        let r = report(&[
            Scored { message_end: end(MessageEndKind::Beep, 4090, 4000), ..scored(machine(Some(4000)), d(Cause::MaxIntro)) },
            Scored { message_end: end(MessageEndKind::Beep, 4300, 4200), ..scored(machine(Some(4000)), d(Cause::MaxIntro)) },
            Scored { message_end: end(MessageEndKind::Beep, 2600, 2500), ..scored(machine(Some(4000)), d(Cause::MaxIntro)) },
            Scored { message_end: Some(MessageEnd { kind: MessageEndKind::Silence, at_ms: 5000, beep: None }), ..scored(machine(None), d(Cause::MaxIntro)) },
            scored(label("human", "person"), d(Cause::Beep)),
            scored(label("fax", "machine"), d(Cause::Fax)),
            scored(label("fax", "machine"), d(Cause::MaxIntro)),
            sit,
        ]);
        let m = &r.message_end;
        assert_eq!(m.clips_with_beep, 3);
        assert!((m.beep_found - 1.0 / 3.0).abs() < 1e-9, "only the first is within 150 ms: {m:?}");
        assert_eq!(m.beep_timing_error_ms, Percentiles { count: 3, p50: Some(90), p90: Some(300) });
        assert_eq!(m.false_beeps, 2, "the human's beep and the one 1.5 s early");
        assert_eq!(m.kinds["beep"], 3);
        assert_eq!(m.kinds["silence"], 1);
        assert_eq!((r.tones.fax_accuracy, r.tones.sit_accuracy, r.tones.sit_code_accuracy), (0.5, 1.0, 1.0));
        assert_eq!(r.tones.speech_called_tone, 0);
        assert!(render(&r).contains("beep found within 150 ms"));
    }

    #[test]
    fn a_mistake_is_a_wrong_status_or_a_missed_beep() {
        use crate::detector::Beep;
        let d = |status, cause| Some(Decision { status, cause, at_ms: 3000 });
        assert_eq!(mistake(&scored(label("human", "person"), d(Status::Person, Cause::SilentAfterIntro))), None);
        let wrong = mistake(&scored(label("human", "person"), d(Status::Machine, Cause::MaxIntro))).unwrap();
        assert!(wrong.starts_with("x.wav: wrong status: truth human (expected person), got machine max-intro at 3000 ms"), "{wrong}");
        let machine = Label { beep_ms: Some(4000), ..label("machine", "machine") };
        let heard = |at_ms| Some(MessageEnd { kind: MessageEndKind::Beep, at_ms, beep: Some(Beep { start_ms: at_ms, freq_hz: 1000, freq2_hz: None }) });
        let on_time = Scored { message_end: heard(4100), ..scored(machine.clone(), d(Status::Machine, Cause::MaxIntro)) };
        assert_eq!(mistake(&on_time), None);
        let late = Scored { message_end: heard(4300), ..scored(machine.clone(), d(Status::Machine, Cause::MaxIntro)) };
        assert!(mistake(&late).unwrap().contains(": beep missed: "), "{late:?}");
        let unheard = scored(machine, d(Status::Person, Cause::SilentAfterIntro));
        assert!(mistake(&unheard).unwrap().contains(": wrong status: "), "a wrong status is named first");
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(split_csv(r#"a,"b,c",,"d""e""#), vec!["a", "b,c", "", "d\"e"]);
    }

    fn labels_from(text: &str) -> Result<Vec<Label>, String> {
        let dir = std::env::temp_dir().join(format!("amd-labels-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("labels.csv");
        std::fs::write(&path, text).unwrap();
        let labels = read_labels(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        labels
    }

    #[test]
    fn labels_with_a_byte_order_mark_and_blank_lines_read_and_bad_rows_are_named() {
        let labels = labels_from("\u{feff}file,truth,expected_status,beep_ms\n\na.wav,machine,machine,1200\nb.wav,human,person,\n").unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!((labels[0].file.as_str(), labels[0].beep_ms), ("a.wav", Some(1200)));
        assert_eq!(labels[1].truth, "human");
        let err = labels_from("file,truth,expected_status\na.wav,human,person\n\nb.wav,human,Persn\n").unwrap_err();
        assert!(err.contains("line 4") && err.contains("'persn'"), "{err}");
        let labels = labels_from("file,truth,expected_status\na.wav,Human,PERSON\nb.wav,MACHINE,Machine\n").unwrap();
        assert_eq!((labels[0].truth.as_str(), labels[0].expected_status.as_str()), ("human", "person"));
        assert_eq!((labels[1].truth.as_str(), labels[1].expected_status.as_str()), ("machine", "machine"));
        let err = labels_from("file,truth,expected_status\na.wav,,person\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("empty"), "{err}");
    }

    #[test]
    fn report_counts_and_times() {
        let d = |status, at_ms| Some(Decision { status, cause: Cause::SilentAfterIntro, at_ms });
        let scored = vec![
            scored(label("human", "person"), d(Status::Person, 1700)),
            scored(label("human", "person"), d(Status::Machine, 3000)),
            scored(label("machine", "machine"), d(Status::Machine, 3500)),
            scored(label("machine", "machine"), None),
        ];
        let r = report(&scored);
        assert_eq!(r.confusion["human"]["machine"], 1);
        assert_eq!(r.confusion["machine"]["none"], 1);
        assert_eq!(r.humans_called_person, 0.5);
        assert_eq!(r.machines_called_machine, 0.5);
        assert_eq!(r.human_decision_after_greeting_ms, Percentiles { count: 2, p50: Some(700), p90: Some(2000) });
        assert!(render(&r).contains("humans called machine: 50.0%"));
    }
}
