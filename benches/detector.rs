//! `cargo bench`: the detector alone, per 20 ms frame, at 8, 16 and 48 kHz, and its state size.
//! Prints figures; it asserts nothing (speed is measured, not tested). Besides wall time it
//! prints the thread's CPU time, which other work on a shared machine does not inflate.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use common::Synth;
use mod_rust_amd::{DecisionMode, Detector, Params};

/// Ten seconds of a call: line noise, a greeting with syllables, a pause, a beep, noise.
fn call(rate: u32) -> Vec<i16> {
    let mut s = Synth::new(rate);
    s.noise_burst(600, 60.0).syllables(3500, 160, 40, 4000.0).noise_burst(400, 60.0);
    s.tone(500, 1000.0, 5000.0).noise_burst(5000, 60.0);
    s.samples
}

/// CPU time this thread has used, in ns.
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 2 } else { 400 };
    println!("detector state: {} bytes per call (size_of::<Detector>())", std::mem::size_of::<Detector>());
    // The learned decision holds back a timer's machine verdict until the model agrees, so a
    // call it doubts is analysed for longer; both modes are measured on the same call.
    for (mode, params) in [("rules", Params { decision: DecisionMode::Rules, ..Params::default() }), ("model", Params::default())] {
        for rate in [8000u32, 16000, 48000] {
            let audio = call(rate);
            let frame = (rate / 50) as usize;
            let frames_per_round = audio.len() / frame;
            let start = Instant::now();
            let cpu_start = thread_cpu_ns();
            let mut decided = None;
            for _ in 0..rounds {
                let mut d = Detector::new(&params, rate).expect("supported rate");
                for chunk in audio.chunks_exact(frame) {
                    d.push(black_box(chunk), &mut |e| {
                        black_box(e);
                    });
                }
                decided = black_box(d.decision());
            }
            let frames = (rounds * frames_per_round) as f64;
            let ns = start.elapsed().as_nanos() as f64 / frames;
            let cpu_ns = (thread_cpu_ns() - cpu_start) / frames;
            let decided = decided.map_or("no decision".to_string(), |d| format!("{} {} at {} ms", d.status.as_str(), d.cause.as_str(), d.at_ms));
            println!(
                "decision={mode} {rate:>5} Hz: {ns:>7.0} ns per 20 ms frame, {cpu_ns:>5.0} ns of CPU ({:.0} channels per core in real time); {decided}",
                20e6 / cpu_ns
            );
        }
    }
}
