//! Saves exactly what the detector heard in a call (`amd_record`, or `record_dir` in
//! amd.conf.xml): the mono PCM at the rate the detector ran at, as a WAV file, so that `amd
//! analyze` and `amd plot` on it reproduce the call's decision.
//!
//! The media thread never waits on the disk: each recording has a writer thread of its own that
//! creates the file and appends what it is sent through a bounded queue; a frame the queue has
//! no room for is counted as lost (and logged when the recording closes), never waited for. The
//! header's sizes are written when the recording closes; until then they say 0, which readers
//! (our analyzer included) take for "to the end of the file".

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::freeswitch::log::{log, Level};

/// Frames queued for a writer at most: 10 s of 20 ms frames.
const QUEUE_FRAMES: usize = 500;

/// Recordings whose writer has not finished yet (module shutdown waits for them).
static WRITING: AtomicUsize = AtomicUsize::new(0);

/// Takes a writer out of the count when its thread ends.
struct Writing;

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One call's recording; dropping it closes the file (in its writer thread).
pub struct Recording {
    queue: SyncSender<Vec<i16>>,
    lost: Arc<AtomicU64>,
}

impl Recording {
    /// Starts a recording of `rate` Hz mono audio into `path`; the file is created by the writer.
    pub fn start(path: PathBuf, rate: u32, uuid: &str) -> Recording {
        let (queue, frames) = sync_channel(QUEUE_FRAMES);
        let lost = Arc::new(AtomicU64::new(0));
        let lost_by_writer = lost.clone();
        let call = uuid.to_string();
        let uuid = uuid.to_string();
        WRITING.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new().name("amd-record".into()).spawn(move || {
            // Counted out however the thread ends, a panic included: shutdown waits on the count.
            let _writing = Writing;
            let outcome = write_wav(&path, rate, frames);
            let lost = lost_by_writer.load(Ordering::Relaxed);
            match outcome {
                Ok(samples) if lost == 0 => {
                    log(Level::Info, &format!("[{uuid}] AMD recording {} written ({} ms of audio)", path.display(), samples * 1000 / u64::from(rate)))
                }
                Ok(_) => log(
                    Level::Warning,
                    &format!("[{uuid}] AMD recording {}: {lost} samples lost (the disk did not keep up); it will not replay the call exactly", path.display()),
                ),
                Err(e) => log(Level::Error, &format!("[{uuid}] AMD recording {}: {e}", path.display())),
            }
        });
        if let Err(e) = spawned {
            // The closure, and the guard it would have made, never ran.
            WRITING.fetch_sub(1, Ordering::SeqCst);
            log(Level::Error, &format!("[{call}] AMD recording: cannot start its writer: {e}"));
        }
        Recording { queue, lost }
    }

    /// Queues one frame of what the detector heard; never blocks.
    pub fn write(&self, pcm: &[i16]) {
        if pcm.is_empty() {
            return;
        }
        match self.queue.try_send(pcm.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(f) | TrySendError::Disconnected(f)) => {
                self.lost.fetch_add(f.len() as u64, Ordering::Relaxed);
            }
        }
    }
}

/// Waits up to `limit` for every recording's writer to finish (module shutdown, before the
/// library may be unmapped); true when none is left.
pub fn wait_for_writers(limit: Duration) -> bool {
    let start = Instant::now();
    while WRITING.load(Ordering::SeqCst) > 0 {
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// A 44-byte header of mono 16-bit PCM at `rate` Hz with `data_bytes` of samples.
pub fn wav_header(rate: u32, data_bytes: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data_bytes.saturating_add(36).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&1u16.to_le_bytes());
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&(rate * 2).to_le_bytes());
    h[32..34].copy_from_slice(&2u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

/// Writes the frames it receives until the sender is dropped; returns the samples written.
fn write_wav(path: &PathBuf, rate: u32, frames: Receiver<Vec<i16>>) -> Result<u64, String> {
    let file = File::create(path).map_err(|e| format!("cannot create it: {e}"))?;
    let mut out = BufWriter::new(file);
    out.write_all(&wav_header(rate, 0)).map_err(|e| e.to_string())?;
    let mut samples = 0u64;
    for frame in frames {
        let bytes: Vec<u8> = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
        out.write_all(&bytes).map_err(|e| e.to_string())?;
        samples += frame.len() as u64;
    }
    // WAV sizes are 32-bit: past 4 GiB the header keeps saying "to the end of the file".
    let data_bytes = u32::try_from(samples * 2).unwrap_or(0);
    out.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    out.write_all(&wav_header(rate, data_bytes)).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_a_wav_the_analyzer_reads() {
        let mut bytes = wav_header(16000, 4).to_vec();
        bytes.extend_from_slice(&[1, 0, 0xff, 0xff]);
        let audio = crate::analyzer::wav::parse(&bytes).unwrap();
        assert_eq!((audio.sample_rate, audio.samples), (16000, vec![1, -1]));
    }
}
