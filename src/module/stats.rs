//! What the module has decided since it was loaded, for monitoring (`amd_stats`): a count per
//! status and per result, detections that ended without one, decisions taken with a confidence
//! under LOW_CONFIDENCE (a share that grows when the traffic drifts from what the model learnt),
//! and the decision times' p50/p90.
//!
//! Decision times go into a fixed histogram, so memory stays the same however many calls come
//! by: one bucket per 10 ms up to 10 s (exact, since the detector decides on whole 10 ms blocks),
//! then one per second up to the longest `total_analysis_time` accepted, 600 s. A percentile
//! past 10 s is its bucket's upper edge.
//! Everything is a relaxed atomic: recording never blocks a media thread, and a reader may see a
//! decision counted in one figure and not yet in another.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::detector::{Cause, Decision, Status};

/// A decision less sure than this is counted apart (amd_confidence has two decimals).
pub const LOW_CONFIDENCE: f32 = 0.9;

const FINE_MS: u64 = 10;
const FINE_UP_TO_MS: u64 = 10_000;
const COARSE_MS: u64 = 1_000;
const COARSE_UP_TO_MS: u64 = 600_000;
const FINE_BUCKETS: usize = (FINE_UP_TO_MS / FINE_MS) as usize;
const BUCKETS: usize = FINE_BUCKETS + ((COARSE_UP_TO_MS - FINE_UP_TO_MS) / COARSE_MS) as usize + 1;

pub struct Stats {
    by_status: [AtomicU64; Status::ALL.len()],
    by_cause: [AtomicU64; Cause::ALL.len()],
    undecided: AtomicU64,
    low_confidence: AtomicU64,
    decision_ms: [AtomicU64; BUCKETS],
}

/// The figures at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub by_status: Vec<(Status, u64)>,
    pub by_cause: Vec<(Cause, u64)>,
    /// Detections ended (hangup, voice_stop, unload) before a decision.
    pub undecided: u64,
    /// Decisions with a confidence under LOW_CONFIDENCE.
    pub low_confidence: u64,
    pub decisions: u64,
    pub p50_ms: Option<u64>,
    pub p90_ms: Option<u64>,
}

static CALLS_IN_MEMORY: AtomicUsize = AtomicUsize::new(0);

/// Calls whose state the module still holds, decided or not: back to 0 once every call is gone,
/// so a leak shows up here (`amd_stats json`) before it shows in the switch's memory.
pub fn calls_in_memory() -> usize {
    CALLS_IN_MEMORY.load(Ordering::SeqCst)
}

/// Held by each call's state for as long as it lives.
pub struct InMemory(());

impl InMemory {
    pub fn new() -> InMemory {
        CALLS_IN_MEMORY.fetch_add(1, Ordering::SeqCst);
        InMemory(())
    }
}

impl Default for InMemory {
    fn default() -> Self {
        InMemory::new()
    }
}

impl Drop for InMemory {
    fn drop(&mut self) {
        CALLS_IN_MEMORY.fetch_sub(1, Ordering::SeqCst);
    }
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);

impl Stats {
    pub const fn new() -> Stats {
        Stats {
            by_status: [ZERO; Status::ALL.len()],
            by_cause: [ZERO; Cause::ALL.len()],
            undecided: ZERO,
            low_confidence: ZERO,
            decision_ms: [ZERO; BUCKETS],
        }
    }

    pub fn reset(&self) {
        let all = self.by_status.iter().chain(&self.by_cause).chain([&self.undecided, &self.low_confidence]).chain(&self.decision_ms);
        for c in all {
            c.store(0, Ordering::Relaxed);
        }
    }

    pub fn record_decision(&self, d: &Decision, confidence: Option<f32>) {
        if confidence.is_none_or(|c| c < LOW_CONFIDENCE) {
            self.low_confidence.fetch_add(1, Ordering::Relaxed);
        }
        self.by_status[status_index(d.status)].fetch_add(1, Ordering::Relaxed);
        self.by_cause[cause_index(d.cause)].fetch_add(1, Ordering::Relaxed);
        self.decision_ms[bucket(d.at_ms)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_undecided(&self) {
        self.undecided.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let counts: Vec<u64> = self.decision_ms.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let decisions = counts.iter().sum();
        Snapshot {
            by_status: Status::ALL.iter().map(|s| (*s, self.by_status[status_index(*s)].load(Ordering::Relaxed))).collect(),
            by_cause: Cause::ALL.iter().map(|c| (*c, self.by_cause[cause_index(*c)].load(Ordering::Relaxed))).collect(),
            undecided: self.undecided.load(Ordering::Relaxed),
            low_confidence: self.low_confidence.load(Ordering::Relaxed),
            decisions,
            p50_ms: percentile(&counts, decisions, 50),
            p90_ms: percentile(&counts, decisions, 90),
        }
    }
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

fn status_index(s: Status) -> usize {
    Status::ALL.iter().position(|x| *x == s).expect("every status is in ALL")
}

fn cause_index(c: Cause) -> usize {
    Cause::ALL.iter().position(|x| *x == c).expect("every cause is in ALL")
}

fn bucket(ms: u64) -> usize {
    if ms < FINE_UP_TO_MS {
        (ms / FINE_MS) as usize
    } else {
        (FINE_BUCKETS + ((ms - FINE_UP_TO_MS) / COARSE_MS) as usize).min(BUCKETS - 1)
    }
}

/// The value a bucket stands for: its lower edge where buckets are exact, else its upper edge.
fn bucket_ms(i: usize) -> u64 {
    if i < FINE_BUCKETS {
        i as u64 * FINE_MS
    } else {
        FINE_UP_TO_MS + (i - FINE_BUCKETS + 1) as u64 * COARSE_MS
    }
}

/// The nearest-rank percentile: the smallest value with at least `pct`% of the decisions at or
/// under it.
fn percentile(counts: &[u64], total: u64, pct: u64) -> Option<u64> {
    if total == 0 {
        return None;
    }
    let rank = (total * pct).div_ceil(100).max(1);
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(bucket_ms(i));
        }
    }
    None
}

impl Snapshot {
    /// `amd_stats`: one `name => value` line per figure, as amd_info writes.
    pub fn to_text(&self, detecting: usize, max_channels: usize) -> String {
        let mut out = String::new();
        out.push_str(&format!("AMD decisions => {}\n", self.decisions));
        for (s, n) in &self.by_status {
            out.push_str(&format!("AMD status {} => {n}\n", s.as_str()));
        }
        for (c, n) in &self.by_cause {
            out.push_str(&format!("AMD result {} => {n}\n", c.as_str()));
        }
        out.push_str(&format!("AMD ended without result => {}\n", self.undecided));
        out.push_str(&format!("AMD decisions under {LOW_CONFIDENCE:.2} confidence => {}\n", self.low_confidence));
        let ms = |v: Option<u64>| v.map_or_else(|| "none".to_string(), |v| v.to_string());
        out.push_str(&format!("AMD decision ms p50 => {}\n", ms(self.p50_ms)));
        out.push_str(&format!("AMD decision ms p90 => {}\n", ms(self.p90_ms)));
        out.push_str(&format!("AMD channels detecting => {detecting}\n"));
        out.push_str(&format!("AMD channels max => {max_channels}\n"));
        out
    }

    /// `amd_stats json`: the same figures as one JSON object.
    pub fn to_json(&self, detecting: usize, max_channels: usize, calls_in_memory: usize) -> String {
        let status: serde_json::Map<String, serde_json::Value> =
            self.by_status.iter().map(|(s, n)| (s.as_str().to_string(), (*n).into())).collect();
        let result: serde_json::Map<String, serde_json::Value> =
            self.by_cause.iter().map(|(c, n)| (c.as_str().to_string(), (*n).into())).collect();
        serde_json::json!({
            "decisions": self.decisions,
            "status": status,
            "result": result,
            "ended_without_result": self.undecided,
            "low_confidence": { "under": LOW_CONFIDENCE, "decisions": self.low_confidence },
            "decision_ms": { "p50": self.p50_ms, "p90": self.p90_ms },
            "channels_detecting": detecting,
            "max_channels": max_channels,
            "calls_in_memory": calls_in_memory,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Decision;

    fn decided(status: Status, cause: Cause, at_ms: u64) -> Decision {
        Decision { status, cause, at_ms }
    }

    #[test]
    fn counts_and_percentiles() {
        let s = Stats::new();
        assert_eq!(s.snapshot().p50_ms, None);
        for ms in (1..=10).map(|i| i * 100) {
            // Every other one under LOW_CONFIDENCE.
            let confidence = if ms % 200 == 0 { 0.95 } else { 0.6 };
            s.record_decision(&decided(Status::Person, Cause::SilentAfterIntro, ms), Some(confidence));
        }
        s.record_decision(&decided(Status::Machine, Cause::Beep, 2500), Some(1.0));
        s.record_undecided();
        let snap = s.snapshot();
        assert_eq!(snap.decisions, 11);
        assert_eq!(snap.undecided, 1);
        assert_eq!(snap.low_confidence, 5);
        assert!(snap.by_status.contains(&(Status::Person, 10)));
        assert!(snap.by_status.contains(&(Status::Machine, 1)));
        assert!(snap.by_cause.contains(&(Cause::Beep, 1)));
        // 11 values: rank 6 is the 6th (600), rank 10 the 10th (1000).
        assert_eq!((snap.p50_ms, snap.p90_ms), (Some(600), Some(1000)));
        s.reset();
        assert_eq!(s.snapshot().decisions, 0);
        assert_eq!(s.snapshot().undecided, 0);
        assert_eq!(s.snapshot().low_confidence, 0);
    }

    #[test]
    fn long_times_land_in_coarse_buckets_and_never_out_of_range() {
        let s = Stats::new();
        s.record_decision(&decided(Status::Unsure, Cause::TooLong, 12_345), Some(0.0));
        assert_eq!(s.snapshot().p50_ms, Some(13_000));
        s.reset();
        s.record_decision(&decided(Status::Unsure, Cause::TooLong, u64::MAX), None);
        assert_eq!(s.snapshot().p90_ms, Some(bucket_ms(BUCKETS - 1)));
        assert_eq!(bucket(9_990), FINE_BUCKETS - 1);
        assert_eq!(bucket_ms(bucket(9_990)), 9_990);
    }

    #[test]
    fn text_and_json_carry_every_status_and_result() {
        let s = Stats::new();
        s.record_decision(&decided(Status::Machine, Cause::MaxCount, 3000), Some(0.5));
        let snap = s.snapshot();
        let text = snap.to_text(2, 10);
        assert!(text.contains("AMD decisions under 0.90 confidence => 1\n"), "{text}");
        for st in Status::ALL {
            assert!(text.contains(&format!("AMD status {} => ", st.as_str())), "{text}");
        }
        for c in Cause::ALL {
            assert!(text.contains(&format!("AMD result {} => ", c.as_str())), "{text}");
        }
        assert!(text.contains("AMD status machine => 1\n") && text.contains("AMD decision ms p50 => 3000\n"));
        assert!(text.contains("AMD channels detecting => 2\n"));
        let v: serde_json::Value = serde_json::from_str(&snap.to_json(2, 10, 3)).unwrap();
        assert_eq!(v["status"]["machine"], 1);
        assert_eq!(v["result"]["max-count"], 1);
        assert_eq!(v["decision_ms"]["p90"], 3000);
        assert_eq!(v["channels_detecting"], 2);
        assert_eq!(v["calls_in_memory"], 3);
        assert_eq!(v["low_confidence"]["decisions"], 1);
        let empty: serde_json::Value = serde_json::from_str(&Stats::new().snapshot().to_json(0, 10, 0)).unwrap();
        assert!(empty["decision_ms"]["p50"].is_null());
    }
}
