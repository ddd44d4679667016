//! One call's detection: fed by its media bug, it reports talking edges and the decision as
//! channel variables (amd_status, amd_result, amd_result_ms, app_amd's amd_cause, ...),
//! AMD::EVENT events and queued actions.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::recorder::Recording;
use super::resample::{target_rate, Resampler};
use super::{actions, fault, registry, slots, stats, SHUTTING_DOWN};
use crate::detector::{amd_cause, answered_by, Decision, Detector, LateKind, LateMachine, Event, Evidence, MessageEnd, Models, Params, Status};
use crate::freeswitch::event::fire_custom;
use crate::freeswitch::log::{log, log_session, Level};
use crate::freeswitch::media_bug::{AudioFrame, BugHandler};
use crate::freeswitch::{panic_text, Session};

/// The CUSTOM event subclass mod_com_amd fires.
pub const EVENT_SUBCLASS: &str = "AMD::EVENT";

pub struct Call {
    pub uuid: String,
    params: Params,
    /// The models it decides with (amd.conf.xml's at voice_start).
    models: Models,
    inner: Mutex<Inner>,
    decided: AtomicBool,
    /// The detector wants no more audio: decided, found the message end if asked to, and done
    /// listening for a late machine if asked to.
    finished: AtomicBool,
    /// The result is in (waitforresult returns): decided, and the message end found if asked to.
    /// Listening for a late machine goes on after it.
    settled: AtomicBool,
    stopped: AtomicBool,
    ended: AtomicBool,
    /// The decision and the message end, for the variables set after the decision.
    verdict: Mutex<(Option<Decision>, Option<MessageEnd>)>,
    /// waitforresult is blocking the session: break its playback/sleep when detection finishes.
    waiting: AtomicBool,
    /// We raised CF_BREAK for the waiter and it may not have been consumed yet.
    break_raised: AtomicBool,
    slot_held: AtomicBool,
    /// Frames of the channel's audio handed to this call so far.
    frames_taken: AtomicU64,
    _in_memory: stats::InMemory,
}

#[derive(Default)]
struct Inner {
    detector: Option<Detector>,
    /// The rate of the audio as read, and the resampler when the detector cannot take it.
    in_rate: u32,
    resampler: Option<Resampler>,
    mono: Vec<i16>,
    resampled: Vec<i16>,
    events: Vec<Event>,
    failed: bool,
    /// Where to save what the detector hears, until the recording starts with the first frame.
    record_to: Option<PathBuf>,
    recording: Option<Recording>,
    /// The rate the recording is at (the detector's when it started).
    recording_rate: u32,
}

/// What the detector said of itself after a frame, read while its lock was held.
#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    finished: bool,
    sit_code: Option<&'static str>,
    /// How sure the detector is of its decision (0 to 1), for amd_confidence.
    confidence: Option<f32>,
    /// A message end is still to come after the decision.
    awaiting_message_end: bool,
    /// The figures behind the decision, for amd_cause.
    evidence: Evidence,
}

impl Call {
    /// A call holding one slot (already taken from [`slots`]).
    pub fn new(uuid: String, params: Params, models: Models, record_to: Option<PathBuf>) -> Call {
        Call {
            uuid,
            params,
            models,
            inner: Mutex::new(Inner { record_to, ..Inner::default() }),
            decided: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            settled: AtomicBool::new(false),
            verdict: Mutex::new((None, None)),
            stopped: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            waiting: AtomicBool::new(false),
            break_raised: AtomicBool::new(false),
            slot_held: AtomicBool::new(true),
            frames_taken: AtomicU64::new(0),
            _in_memory: stats::InMemory::new(),
        }
    }

    pub fn decided(&self) -> bool {
        self.decided.load(Ordering::SeqCst)
    }

    /// Detection is over for this call: decided, with `detect_message_end` on a machine the
    /// greeting's end found, and with `detect_late_machine` on a person the window over.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// The result is in and waitforresult returns: decided, and with `detect_message_end` on a
    /// machine the greeting's end found (a late-machine window may still be open).
    pub fn settled(&self) -> bool {
        self.settled.load(Ordering::SeqCst) || self.finished()
    }

    pub fn frames_taken(&self) -> u64 {
        self.frames_taken.load(Ordering::SeqCst)
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    pub fn debug(&self) -> bool {
        self.params.debug
    }

    pub fn mark_stopped(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    pub fn set_waiting(&self, on: bool) {
        self.waiting.store(on, Ordering::SeqCst);
    }

    /// True once, if a CF_BREAK we raised for the waiter may still be pending.
    pub fn take_break_raised(&self) -> bool {
        self.break_raised.swap(false, Ordering::SeqCst)
    }

    /// Gives the slot back (once).
    fn release_slot(&self) {
        if self.slot_held.swap(false, Ordering::SeqCst) {
            slots().release();
        }
    }

    /// Ends the call's detection on our side: slot back, out of the registry. Idempotent.
    pub fn finish(self: &Arc<Self>) {
        self.ended.store(true, Ordering::SeqCst);
        self.release_slot();
        registry::remove(self);
    }

    /// Feeds one frame; the events it produced are left in `inner.events`.
    fn feed(&self, session: &Session, frame: &AudioFrame<'_>, inner: &mut Inner) -> Result<Snapshot, String> {
        let (rate, channels) = match session.read_format() {
            Some(f) => (f.rate, f.channels),
            None => (frame.rate, frame.channels),
        };
        let channels = channels.max(frame.channels).max(1) as usize;
        // The first channel of interleaved audio.
        inner.mono.clear();
        if channels == 1 {
            inner.mono.extend_from_slice(&frame.pcm);
        } else {
            inner.mono.extend(frame.pcm.iter().step_by(channels));
        }
        if inner.detector.is_none() || rate != inner.in_rate {
            let target = target_rate(rate).ok_or_else(|| format!("unsupported read rate {rate} Hz"))?;
            match inner.detector.as_mut() {
                None => {
                    inner.detector = Some(
                        Detector::with_models(&self.params, target, &self.models).map_err(|e| format!("cannot start the detector: {e}"))?,
                    )
                }
                Some(d) => d.set_sample_rate(target).map_err(|e| format!("codec change: {e}"))?,
            }
            if inner.recording.is_some() && inner.recording_rate != target {
                // One file holds one rate: a codec change to another rate ends it.
                inner.recording = None;
                log_session(session, Level::Warning, &format!("[{}] AMD: the detector's rate changed to {target} Hz; recording stopped", self.uuid));
            }
            if let Some(path) = inner.record_to.take() {
                log_session(session, self.log_level(), &format!("[{}] AMD: recording what the detector hears to {}", self.uuid, path.display()));
                inner.recording = Some(Recording::start(path, target, &self.uuid));
                inner.recording_rate = target;
            }
            inner.resampler = (target != rate).then(|| Resampler::new(rate, target));
            if let Some(r) = &inner.resampler {
                log_session(
                    session,
                    Level::Notice,
                    &format!("[{}] AMD: reading {} Hz audio, resampled to {} Hz", self.uuid, r.rates().0, r.rates().1),
                );
            }
            inner.in_rate = rate;
        }
        fault::point("detection", || session.channel().var(fault::CHANNEL_VARIABLE));
        let Inner { detector, resampler, mono, resampled, events, recording, .. } = inner;
        let detector = detector.as_mut().expect("created above");
        let pcm: &[i16] = match resampler {
            Some(r) => {
                r.process(mono, resampled);
                resampled
            }
            None => mono,
        };
        if let Some(r) = recording {
            r.write(pcm);
        }
        detector.push(pcm, &mut |e| events.push(e));
        Ok(Snapshot {
            finished: detector.is_finished(),
            sit_code: detector.sit_code(),
            confidence: detector.confidence(),
            awaiting_message_end: detector.awaiting_message_end(),
            evidence: detector.evidence(),
        })
    }

    fn on_event(&self, session: &Session, event: Event, snapshot: &Snapshot) {
        let channel = session.channel();
        match event {
            Event::StartTalking { at_ms } | Event::StopTalking { at_ms } => {
                let action = if matches!(event, Event::StartTalking { .. }) { "Start Talking" } else { "Stop Talking" };
                let ms = at_ms.to_string();
                fire_custom(EVENT_SUBCLASS, Some(&channel), &[("Action", action), ("AMD-Offset-MS", &ms)]);
                if self.debug() {
                    log_session(session, Level::Info, &format!("[{}] AMD {} at {at_ms} ms", self.uuid, action.to_lowercase()));
                }
            }
            Event::Decided(d) => self.on_decision(session, d, snapshot),
            Event::MessageEnd(m) => self.on_message_end(session, m),
            Event::LateMachine(l) => self.on_late_machine(session, l),
            Event::BeepEnd { at_ms } => {
                session.channel().set_var("amd_beep_end_ms", &at_ms.to_string());
            }
        }
    }

    fn log_level(&self) -> Level {
        if self.debug() {
            Level::Info
        } else {
            Level::Debug
        }
    }

    fn answered_by(&self) -> &'static str {
        let verdict = self.verdict.lock().unwrap_or_else(|p| p.into_inner());
        answered_by(verdict.0.as_ref(), self.params.detect_message_end, verdict.1.as_ref())
    }

    fn on_decision(&self, session: &Session, d: Decision, snapshot: &Snapshot) {
        if self.decided.swap(true, Ordering::SeqCst) {
            return;
        }
        super::stats().record_decision(&d, snapshot.confidence);
        self.verdict.lock().unwrap_or_else(|p| p.into_inner()).0 = Some(d);
        let channel = session.channel();
        let status = d.status.as_str();
        let cause = d.cause.as_str();
        let ms = d.at_ms.to_string();
        let answered = self.answered_by();
        let app_amd_cause = amd_cause(&d, &snapshot.evidence, &self.params);
        channel.set_var("amd_status", status);
        channel.set_var("amd_result", cause);
        channel.set_var("amd_result_ms", &ms);
        channel.set_var("amd_answered_by", answered);
        channel.set_var("amd_cause", &app_amd_cause);
        let confidence = format_confidence(snapshot.confidence);
        channel.set_var("amd_confidence", &confidence);
        let mut headers = vec![("Action", "Result"), ("AMD-Status", status), ("AMD-Result", cause), ("AMD-Result-MS", &ms)];
        headers.push(("AMD-Answered-By", answered));
        headers.push(("AMD-Cause", &app_amd_cause));
        headers.push(("AMD-Confidence", &confidence));
        if let Some(code) = snapshot.sit_code {
            channel.set_var("amd_sit", code);
            headers.push(("AMD-SIT", code));
        }
        let awaiting = if snapshot.awaiting_message_end { "true" } else { "false" };
        headers.push(("AMD-Awaiting-Message-End", awaiting));
        fire_custom(EVENT_SUBCLASS, Some(&channel), &headers);
        let sit = snapshot.sit_code.map(|c| format!(", SIT {c}")).unwrap_or_default();
        log_session(
            session,
            self.log_level(),
            &format!("[{}] AMD result {status} ({cause}{sit}, {app_amd_cause}) at {ms} ms", self.uuid),
        );
        self.run_actions(session, status, actions::for_decision(d.status, |name| channel.var(name)));
    }

    fn on_message_end(&self, session: &Session, m: MessageEnd) {
        let decision = {
            let mut verdict = self.verdict.lock().unwrap_or_else(|p| p.into_inner());
            if verdict.1.is_some() {
                return;
            }
            verdict.1 = Some(m);
            verdict.0
        };
        let channel = session.channel();
        let kind = m.kind.as_str();
        let ms = m.at_ms.to_string();
        let answered = self.answered_by();
        channel.set_var("amd_message_end", kind);
        channel.set_var("amd_message_end_ms", &ms);
        channel.set_var("amd_answered_by", answered);
        let beep_ms = m.beep.map(|b| b.start_ms.to_string());
        if let Some(b) = &beep_ms {
            channel.set_var("amd_beep_ms", b);
        }
        let (status, cause, decided_ms) = match decision {
            Some(d) => (d.status.as_str(), d.cause.as_str(), d.at_ms.to_string()),
            None => ("", "", String::new()),
        };
        let mut headers = vec![
            ("Action", "Message End"),
            ("AMD-Status", status),
            ("AMD-Result", cause),
            ("AMD-Result-MS", decided_ms.as_str()),
            ("AMD-Answered-By", answered),
            ("AMD-Message-End", kind),
            ("AMD-Message-End-MS", ms.as_str()),
        ];
        if let Some(b) = &beep_ms {
            headers.push(("AMD-Beep-MS", b));
        }
        fire_custom(EVENT_SUBCLASS, Some(&channel), &headers);
        log_session(session, self.log_level(), &format!("[{}] AMD message end: {kind} at {ms} ms", self.uuid));
        let action = channel.var(actions::MESSAGE_END_VARIABLE).as_deref().and_then(actions::parse);
        self.run_actions(session, "message end", action.into_iter().collect());
    }

    /// A machine that showed itself after a `person` (or `unsure`) decision: the late variables (and, for a
    /// beep, the message-end ones, so a voicemail drop can start after it), a `Late Machine`
    /// event, then amd_execute_on_late_machine in the session's thread. amd_answered_by keeps
    /// what the dialplan acted on; the event says what it would now be.
    fn on_late_machine(&self, session: &Session, l: LateMachine) {
        let channel = session.channel();
        let kind = l.kind.as_str();
        let ms = l.at_ms.to_string();
        channel.set_var("amd_late_status", "machine");
        channel.set_var("amd_late_result", kind);
        channel.set_var("amd_late_ms", &ms);
        let beep_ms = l.beep.map(|b| b.start_ms.to_string());
        if let Some(b) = &beep_ms {
            channel.set_var("amd_message_end", "beep");
            channel.set_var("amd_message_end_ms", &ms);
            channel.set_var("amd_beep_ms", b);
        }
        let now_answered_by = match l.kind {
            LateKind::Beep => "machine_end_beep",
            LateKind::Fax => "fax",
            LateKind::Sit => "machine_start",
        };
        let decided_ms = self.verdict.lock().unwrap_or_else(|p| p.into_inner()).0.map(|d| d.at_ms.to_string()).unwrap_or_default();
        let mut headers = vec![
            ("Action", "Late Machine"),
            ("AMD-Status", "person"),
            ("AMD-Result-MS", decided_ms.as_str()),
            ("AMD-Late-Status", "machine"),
            ("AMD-Late-Result", kind),
            ("AMD-Late-MS", ms.as_str()),
            ("AMD-Answered-By-Now", now_answered_by),
        ];
        if let Some(b) = &beep_ms {
            headers.push(("AMD-Message-End", "beep"));
            headers.push(("AMD-Message-End-MS", ms.as_str()));
            headers.push(("AMD-Beep-MS", b));
        }
        fire_custom(EVENT_SUBCLASS, Some(&channel), &headers);
        log_session(session, Level::Notice, &format!("[{}] AMD late machine ({kind}) at {ms} ms, after a person or unsure decision", self.uuid));
        let action = channel.var(actions::LATE_MACHINE_VARIABLE).as_deref().and_then(actions::parse);
        self.run_actions(session, "late machine", action.into_iter().collect());
    }

    /// Queues actions to run in the session's own thread.
    fn run_actions(&self, session: &Session, what: &str, to_run: Vec<actions::Action>) {
        queue_actions(session, &self.uuid, self.log_level(), what, to_run);
    }

    /// Detection cannot go on (audio it cannot take, or a bug of ours): no more frames are fed,
    /// and the call still gets a result, `unsure` with `amd_result=error`, so a dialplan
    /// branching on amd_status treats it as a person.
    fn give_up(&self, session: &Session, why: &str) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).failed = true;
        log_session(session, Level::Error, &format!("[{}] AMD stopped: {why}", self.uuid));
        // Counted as ended without a decision (amd_stats), as it is.
        if !self.decided() {
            report_error_result(session, &self.uuid, self.log_level(), "detection ended by an error before a decision", why);
        }
        self.on_finished(session);
    }

    /// The detector is done with the audio: free the slot and wake waitforresult.
    fn on_finished(&self, session: &Session) {
        if self.finished.swap(true, Ordering::SeqCst) {
            return;
        }
        // The detector hears no more: the recording is complete.
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).recording = None;
        self.release_slot();
        self.wake_waiter(session);
    }

    /// A waitforresult blocked on this call (playing its prompt, or sleeping) returns now.
    fn wake_waiter(&self, session: &Session) {
        if self.waiting.load(Ordering::SeqCst) {
            self.break_raised.store(true, Ordering::SeqCst);
            session.channel().raise_break();
        }
    }

    /// One frame of the channel's audio; false once detection wants no more.
    fn take_frame(&self, session: &Session, frame: &AudioFrame<'_>) -> bool {
        if self.finished() || self.stopped.load(Ordering::SeqCst) || self.ended() {
            return false;
        }
        self.frames_taken.fetch_add(1, Ordering::SeqCst);
        let (mut events, snapshot) = {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            if inner.failed {
                return false;
            }
            match self.feed(session, frame, &mut inner) {
                Ok(snapshot) => (std::mem::take(&mut inner.events), snapshot),
                Err(e) => {
                    drop(inner);
                    self.give_up(session, &e);
                    return false;
                }
            }
        };
        for e in events.drain(..) {
            self.on_event(session, e, &snapshot);
        }
        if snapshot.finished {
            self.on_finished(session);
        } else if self.decided() && !snapshot.awaiting_message_end && !self.settled.swap(true, Ordering::SeqCst) {
            // Listening for a late machine goes on; the dialplan has its result.
            self.wake_waiter(session);
        }
        // Hand the (now empty) buffer back to avoid an allocation per frame.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.events.capacity() == 0 {
            inner.events = events;
        }
        !self.finished()
    }
}

impl BugHandler for Call {
    fn on_frame(&self, session: Session, frame: &AudioFrame<'_>) -> bool {
        // Caught here rather than only at the FFI edge, so that a bug of ours still leaves
        // the call with a result (unsure, error) and its dialplan going on.
        match catch_unwind(AssertUnwindSafe(|| self.take_frame(&session, frame))) {
            Ok(go_on) => go_on,
            Err(p) => {
                self.give_up(&session, &format!("internal error: {}", panic_text(&*p)));
                false
            }
        }
    }

    fn on_close(&self, session: Option<Session>) {
        self.ended.store(true, Ordering::SeqCst);
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).recording = None;
        // Stopped from elsewhere (uuid_voice_stop): a waitforresult playing its prompt returns now.
        if let Some(session) = &session {
            self.wake_waiter(session);
        }
        self.release_slot();
        if let Some(me) = registry::get(&self.uuid) {
            if std::ptr::eq(Arc::as_ptr(&me), self) {
                registry::remove(&me);
            }
        }
        if !self.decided() {
            super::stats().record_undecided();
        }
        if !self.finished() {
            let why = if self.stopped.load(Ordering::SeqCst) {
                "voice_stop"
            } else if SHUTTING_DOWN.load(Ordering::SeqCst) {
                "module unload"
            } else if self.inner.lock().unwrap_or_else(|p| p.into_inner()).failed {
                "an error (logged above)"
            } else {
                "hangup"
            };
            let level = if why == "hangup" { Level::Notice } else { Level::Info };
            let before = match (self.decided(), self.settled()) {
                (false, _) => "a decision",
                (true, false) => "the end of the greeting",
                (true, true) => "the end of the late-machine window",
            };
            log(level, &format!("[{}] AMD detection ended by {why} before {before}; channel slot freed", self.uuid));
        } else if self.debug() {
            log(Level::Info, &format!("[{}] AMD detection closed", self.uuid));
        }
    }
}

/// amd_confidence's text: two decimals, as a dialplan compares it (`${amd_confidence} < 0.9`).
pub fn format_confidence(confidence: Option<f32>) -> String {
    format!("{:.2}", confidence.unwrap_or(0.0).clamp(0.0, 1.0))
}

/// The result of a call whose detection failed (or never started): `unsure` with
/// `amd_result=error`, a Result event carrying `AMD-Error: why`, and the unsure actions queued, so
/// a dialplan branching on amd_status or driven by amd_execute_on_* goes on as for a person.
pub fn report_error_result(session: &Session, uuid: &str, level: Level, what_happened: &str, why: &str) {
    log_session(session, Level::Warning, &format!("[{uuid}] AMD {what_happened}: amd_status=unsure, amd_result=error"));
    let channel = session.channel();
    channel.set_var("amd_status", "unsure");
    channel.set_var("amd_result", "error");
    channel.set_var("amd_answered_by", "unknown");
    // Nothing was measured: no confidence in anything.
    let confidence = format_confidence(None);
    channel.set_var("amd_confidence", &confidence);
    let headers = [
        ("Action", "Result"),
        ("AMD-Status", "unsure"),
        ("AMD-Result", "error"),
        ("AMD-Answered-By", "unknown"),
        ("AMD-Confidence", &confidence),
        ("AMD-Error", why),
    ];
    fire_custom(EVENT_SUBCLASS, Some(&channel), &headers);
    queue_actions(session, uuid, level, "unsure", actions::for_decision(Status::Unsure, |name| channel.var(name)));
}

/// Queues actions to run in the session's own thread.
fn queue_actions(session: &Session, uuid: &str, level: Level, what: &str, to_run: Vec<actions::Action>) {
    for a in to_run {
        let st = session.execute_async(&a.app, a.arg.as_deref());
        let text = format!("{} {}", a.app, a.arg.as_deref().unwrap_or(""));
        if st.is_ok() {
            log_session(session, level, &format!("[{uuid}] AMD {what}: queued {}", text.trim()));
        } else {
            log_session(session, Level::Error, &format!("[{uuid}] AMD {what}: cannot queue {}: {st:?}", text.trim()));
        }
    }
}
