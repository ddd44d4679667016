//! Replays, without the fuzzer, every input the fuzz targets (fuzz/) keep: the seeds they start
//! from (fuzz/seeds/TARGET/) and the inputs that once failed (fuzz/regressions/TARGET/), each
//! through the same check the fuzz target runs.

#[path = "../fuzz/checks/detector.rs"]
mod detector;
#[path = "../fuzz/checks/params.rs"]
mod params;
#[path = "../fuzz/checks/wav.rs"]
mod wav;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for p in paths {
            let data = std::fs::read(&p).unwrap();
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{} fails the {target} check", p.display());
            }
            n += 1;
        }
    }
    n
}

#[test]
fn detector_inputs() {
    assert!(replay("detector", detector::check) >= 3);
}

#[test]
fn params_inputs() {
    assert!(replay("params", params::check) >= 3);
}

#[test]
fn wav_inputs() {
    assert!(replay("wav", wav::check) >= 5);
}
