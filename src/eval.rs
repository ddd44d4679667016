//! Scores the detector on labeled recordings (a folder with labels.csv in the corpus format).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::decision::Decision;

/// One row of labels.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub file: String,
    pub truth: String,
    pub expected_status: String,
    pub greeting_ms: Option<u64>,
    pub initial_silence_ms: Option<u64>,
    pub beep_ms: Option<u64>,
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
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv(lines.next().ok_or_else(|| format!("{}: empty", path.display()))?);
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let need = |name: &str| col(name).ok_or_else(|| format!("{}: no column '{name}'", path.display()));
    let (file, truth, expected) = (need("file")?, need("truth")?, need("expected_status")?);
    let (greeting, initial, beep, condition) = (col("greeting_ms"), col("initial_silence_ms"), col("beep_ms"), col("condition"));
    let mut labels = Vec::new();
    for (n, line) in lines.enumerate() {
        let f = split_csv(line);
        let get = |i: usize| f.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
        let num = |i: Option<usize>| i.and_then(|i| get(i).parse::<u64>().ok());
        if f.len() <= file.max(truth).max(expected) {
            return Err(format!("{}: line {} has too few columns", path.display(), n + 2));
        }
        labels.push(Label {
            file: get(file),
            truth: get(truth),
            expected_status: get(expected),
            greeting_ms: num(greeting),
            initial_silence_ms: num(initial),
            beep_ms: num(beep),
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
}

impl Scored {
    pub fn status(&self) -> &'static str {
        self.decision.map_or("none", |d| d.status.as_str())
    }
}

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
    Report {
        clips: scored.len(),
        confusion,
        classes,
        overall_accuracy: share(right, scored.len()),
        humans_called_person: share(count(&humans, "person"), humans.len()),
        humans_called_machine: share(count(&humans, "machine"), humans.len()),
        machines_called_machine: share(count(&machines, "machine"), machines.len()),
        human_decision_after_greeting_ms: percentiles(after_greeting),
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Cause, Status};

    fn label(truth: &str, expected: &str) -> Label {
        Label {
            file: "x.wav".into(),
            truth: truth.into(),
            expected_status: expected.into(),
            greeting_ms: Some(500),
            initial_silence_ms: Some(500),
            beep_ms: None,
            condition: String::new(),
        }
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(split_csv(r#"a,"b,c",,"d""e""#), vec!["a", "b,c", "", "d\"e"]);
    }

    #[test]
    fn report_counts_and_times() {
        let d = |status, at_ms| Some(Decision { status, cause: Cause::SilentAfterIntro, at_ms });
        let scored = vec![
            Scored { label: label("human", "person"), decision: d(Status::Person, 1700) },
            Scored { label: label("human", "person"), decision: d(Status::Machine, 3000) },
            Scored { label: label("machine", "machine"), decision: d(Status::Machine, 3500) },
            Scored { label: label("machine", "machine"), decision: None },
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
