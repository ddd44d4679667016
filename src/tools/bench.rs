//! `amd bench`: what the detector costs on this machine, over real calls. Each call is fed frame
//! by frame as a channel at ptime 20 would, at 8, 16 and 48 kHz, on one thread, with every
//! detector on, until the detector is finished with it (past the decision, to the end of a
//! machine's greeting) or the call ends;
//! the figure is the CPU time per 20 ms frame averaged over every frame of every call, and from the
//! 8 kHz figure, how many calls one core could follow in real time.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::analyzer::wav::{read_file, Audio};
use crate::detector::{Detector, Params};
use crate::tools::resample::resample;
use crate::tools::wav_files_in;

/// The rates measured; the last line is about the first.
pub const RATES: [u32; 3] = [8000, 16000, 48000];
/// Audio per frame, as FreeSWITCH delivers it at ptime 20.
const FRAME_MS: u32 = 20;
/// A timing run repeats passes over all calls until it has lasted this long, so that a small
/// folder still gives a figure well above the clock's resolution and scheduling noise.
const MIN_RUN: Duration = Duration::from_millis(300);

/// The project's own fixtures, measured when no folder is given.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data")
}

/// Every detector on, as the target is stated: the tone tracker always runs; beep detection and
/// message-end detection are switched on here.
pub fn bench_params() -> Params {
    Params { detect_beep: true, detect_message_end: true, ..Params::default() }
}

/// One rate's figures.
#[derive(Debug, Clone)]
pub struct RateFigures {
    pub rate: u32,
    /// Frames fed per pass over all calls.
    pub frames: u64,
    /// ns per frame, per run, sorted.
    pub runs_ns: Vec<f64>,
}

impl RateFigures {
    pub fn median_ns(&self) -> f64 {
        let n = self.runs_ns.len();
        if n % 2 == 1 {
            self.runs_ns[n / 2]
        } else {
            (self.runs_ns[n / 2 - 1] + self.runs_ns[n / 2]) / 2.0
        }
    }
}

/// Calls that one core can analyse in real time, given the cost of one 20 ms frame.
pub fn channels_per_core(ns_per_frame: f64) -> u64 {
    (f64::from(FRAME_MS) * 1e6 / ns_per_frame) as u64
}

/// Reads every WAV file in `dir`; files it cannot read are reported through `note` and skipped.
pub fn load_calls(dir: &Path, note: &mut dyn FnMut(String)) -> Result<Vec<Audio>, String> {
    let mut calls = Vec::new();
    for file in wav_files_in(dir)? {
        match read_file(&file) {
            Ok(audio) => calls.push(audio),
            Err(e) => note(format!("{}: {e}; skipped", file.display())),
        }
    }
    if calls.is_empty() {
        return Err(format!("{}: no readable WAV files to measure", dir.display()));
    }
    Ok(calls)
}

/// Times the detector over all `calls` brought to `rate`: `runs` timing runs, one thread.
pub fn measure(calls: &[Audio], rate: u32, params: &Params, runs: usize) -> RateFigures {
    let at_rate: Vec<Vec<i16>> = calls.iter().map(|a| resample(&a.samples, a.sample_rate, rate)).collect();
    let frame = (rate * FRAME_MS / 1000) as usize;
    let frames: u64 = at_rate.iter().map(|s| feed_call(s, rate, frame, params)).sum();
    let mut runs_ns: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = thread_cpu_time();
            let mut passes = 0u64;
            while passes == 0 || thread_cpu_time() - start < MIN_RUN {
                for samples in &at_rate {
                    feed_call(samples, rate, frame, params);
                }
                passes += 1;
            }
            (thread_cpu_time() - start).as_nanos() as f64 / (passes * frames) as f64
        })
        .collect();
    runs_ns.sort_by(f64::total_cmp);
    RateFigures { rate, frames, runs_ns }
}

/// CPU time this thread has used. The bench counts CPU time, not wall time: the cost of a frame
/// is what it takes from a core, and on a shared machine the wall clock also counts the time
/// other processes held the core.
#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on every Unix this builds for");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Feeds one call from answer as a channel would: until the detector is finished with it (its
/// decision, and with detect_message_end the end of a machine's greeting) or the call ends.
/// Returns the frames fed.
fn feed_call(samples: &[i16], rate: u32, frame: usize, params: &Params) -> u64 {
    let mut detector = Detector::new(params, rate).expect("RATES are all supported");
    let mut frames = 0;
    for chunk in samples.chunks_exact(frame) {
        detector.push(black_box(chunk), &mut |e| {
            black_box(e);
        });
        frames += 1;
        if detector.is_finished() {
            break;
        }
    }
    black_box(detector.decision());
    frames
}

/// Runs the whole bench on `dir` (the fixtures when None), handing each output line to `out` as
/// soon as it is known; the last line is `N channels per core at 8 kHz`.
pub fn run(dir: Option<&Path>, runs: usize, out: &mut dyn FnMut(String)) -> Result<(), String> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let d = default_dir();
            if !d.is_dir() {
                return Err(format!(
                    "no folder given and the project's fixtures ({}) are not here: use `amd bench DIR`",
                    d.display()
                ));
            }
            d
        }
    };
    let calls = load_calls(&dir, &mut |n| out(format!("note: {n}")))?;
    let audio_ms: u64 = calls.iter().map(|a| a.samples.len() as u64 * 1000 / u64::from(a.sample_rate)).sum();
    out(format!(
        "{} calls from {} ({:.1} s of audio), fed in 20 ms frames until the detector is done (message end on), one thread's CPU time, median of {} runs",
        calls.len(),
        dir.display(),
        audio_ms as f64 / 1000.0,
        runs.max(1)
    ));
    out(format!("detector state: {} bytes per call", std::mem::size_of::<Detector>()));
    let params = bench_params();
    let mut at_8k = None;
    for rate in RATES {
        let fig = measure(&calls, rate, &params, runs);
        let median = fig.median_ns();
        out(format!(
            "{:>2} kHz: {:.3} µs per 20 ms frame ({} frames fed per pass; runs {:.3}-{:.3} µs)",
            rate / 1000,
            median / 1000.0,
            fig.frames,
            fig.runs_ns[0] / 1000.0,
            fig.runs_ns[fig.runs_ns.len() - 1] / 1000.0
        ));
        if rate == 8000 {
            at_8k = Some(median);
        }
    }
    let ns = at_8k.expect("8 kHz is measured");
    out(format!("{} channels per core at 8 kHz", channels_per_core(ns)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_per_core_is_real_time_over_cost() {
        assert_eq!(channels_per_core(1000.0), 20_000);
        assert_eq!(channels_per_core(700.0), 28_571);
    }

    #[test]
    fn median_of_sorted_runs() {
        let f = |runs_ns: Vec<f64>| RateFigures { rate: 8000, frames: 1, runs_ns }.median_ns();
        assert_eq!(f(vec![1.0, 2.0, 9.0]), 2.0);
        assert_eq!(f(vec![1.0, 2.0, 4.0, 9.0]), 3.0);
    }
}
