//! The `amd` tools beyond analyze and eval: `bench` (what one core can do), `plot` (what the
//! detector saw in one call), `tune` (parameters searched on an operator's labeled calls), and
//! `train` and `train_beep` (the decision and beep models learnt from labelled calls).

pub mod bench;
mod boost;
pub mod plot;
#[cfg(feature = "png")]
mod png;
mod resample;
mod svg;
pub mod train;
pub mod train_beep;
pub mod tune;

use std::path::{Path, PathBuf};

/// The .wav files directly in `dir`, sorted by name.
pub fn wav_files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
        .collect();
    files.sort();
    Ok(files)
}
