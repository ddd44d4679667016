//! Starting and stopping detection on a channel: one path for the dialplan applications
//! (voice_start, voice_stop) and the API commands that act on a live channel by UUID
//! (uuid_voice_start, uuid_voice_stop).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::call::Call;
use super::{config, fault, registry, slots};
use crate::detector::{ParamError, Params};
use crate::freeswitch::log::{log_session, Level};
use crate::freeswitch::{media_bug, panic_text, Session};

/// Why detection did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    AlreadyRunning,
    NoSlotFree { allocated: usize, max: usize },
    BadData(Vec<ParamError>),
    Attach(String),
    /// A bug of ours (a panic) while starting.
    Internal(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::AlreadyRunning => f.write_str("AMD already running on this channel"),
            StartError::NoSlotFree { allocated, max } => {
                write!(f, "no AMD channel free ({allocated} in use, max_channels {max})")
            }
            StartError::BadData(errors) => {
                let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                f.write_str(&all.join("; "))
            }
            StartError::Attach(why) => write!(f, "cannot attach to the channel's audio: {why}"),
            StartError::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

/// How strictly to take voice_start's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPolicy {
    /// The dialplan's way: a bad pair is logged and skipped, the rest applies (as mod_com_amd does).
    SkipBad,
    /// The API's way: any bad pair refuses the whole command, so the caller can fix and retry.
    RefuseBad,
}

/// The parameters for one call: amd.conf.xml's, overridden by `data` (`k=v,k=v`).
fn params_for(session: &Session, data: &str, policy: DataPolicy, mut params: Params) -> Result<Params, StartError> {
    let errors = params.apply_configuration_pairs(data);
    if errors.is_empty() {
        return Ok(params);
    }
    if policy == DataPolicy::RefuseBad {
        return Err(StartError::BadData(errors));
    }
    let uuid = session.uuid();
    for e in errors {
        let keep = params.get(&e.key).map(|v| format!("; keeping {}={v}", e.key.trim())).unwrap_or_default();
        log_session(session, Level::Warning, &format!("[{uuid}] voice_start: {e}{keep}"));
    }
    Ok(params)
}

/// Where to save what the detector hears in this call, if anywhere: the channel's `amd_record`
/// (a file, or a folder to put <uuid>.wav in), else amd.conf.xml's `record_dir`.
fn record_path(session: &Session, record_dir: Option<&str>, uuid: &str) -> Option<PathBuf> {
    let asked = session.channel().var(RECORD_VARIABLE).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let in_folder = |dir: &str| Path::new(dir).join(format!("{uuid}.wav"));
    match asked {
        Some(p) if p.ends_with('/') || Path::new(&p).is_dir() => Some(in_folder(&p)),
        Some(p) => Some(PathBuf::from(p)),
        None => record_dir.map(in_folder),
    }
}

/// The channel variable that asks for a recording of what the detector hears.
pub const RECORD_VARIABLE: &str = "amd_record";

/// Starts detection on the session's read audio. A panic on the way is an error like any other,
/// and leaves no slot taken and no call registered.
pub fn start(session: &Session, data: &str, policy: DataPolicy) -> Result<(), StartError> {
    catch_unwind(AssertUnwindSafe(|| start_unguarded(session, data, policy)))
        .unwrap_or_else(|p| Err(StartError::Internal(panic_text(&*p))))
}

fn start_unguarded(session: &Session, data: &str, policy: DataPolicy) -> Result<(), StartError> {
    let uuid = session.uuid();
    if registry::get(&uuid).is_some_and(|existing| !existing.ended()) {
        return Err(StartError::AlreadyRunning);
    }
    let config = config();
    let models = config.models();
    let params = params_for(session, data, policy, config.params)?;
    if !slots().try_acquire() {
        return Err(StartError::NoSlotFree { allocated: slots().allocated(), max: slots().max() });
    }
    let debug = params.debug;
    let record_to = record_path(session, config.record_dir.as_deref(), &uuid);
    let call = Arc::new(Call::new(uuid.clone(), params, models, record_to));
    // Until the media bug has the call, every way out (a panic included) must end it.
    let unattached = EndUnlessAttached(Some(call.clone()));
    if registry::insert(&call).is_err() {
        // Another start on this channel got in since the check above.
        return Err(StartError::AlreadyRunning);
    }
    fault::point("start", || session.channel().var(fault::CHANNEL_VARIABLE));
    if let Err(st) = media_bug::attach(session, "mod_rust_amd", call.clone()) {
        return Err(StartError::Attach(format!("{st:?}")));
    }
    unattached.attached();
    if debug {
        log_session(session, Level::Info, &format!("[{uuid}] AMD detection started"));
    }
    Ok(())
}

/// Ends a call that never reached its media bug: slot back, out of the registry.
struct EndUnlessAttached(Option<Arc<Call>>);

impl EndUnlessAttached {
    fn attached(mut self) {
        self.0 = None;
    }
}

impl Drop for EndUnlessAttached {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            call.finish();
        }
    }
}

/// Stops detection on the session (no result if none was reached) and frees its slot.
/// False when none was running.
pub fn stop(session: &Session) -> bool {
    let uuid = session.uuid();
    let Some(call) = registry::get(&uuid) else {
        return false;
    };
    call.mark_stopped();
    media_bug::detach::<Call>(session);
    call.finish();
    if call.debug() {
        log_session(session, Level::Info, &format!("[{uuid}] AMD detection stopped"));
    }
    true
}
