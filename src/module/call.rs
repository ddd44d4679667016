//! One call's detection: fed by its media bug, it reports talking edges and the decision as
//! channel variables, AMD::EVENT events and queued actions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::resample::{target_rate, Resampler};
use super::{actions, registry, slots, stats, SHUTTING_DOWN};
use crate::decision::{Decision, Event};
use crate::detector::Detector;
use crate::freeswitch::event::fire_custom;
use crate::freeswitch::log::{log, log_session, Level};
use crate::freeswitch::media_bug::{AudioFrame, BugHandler};
use crate::freeswitch::Session;
use crate::params::Params;

/// The CUSTOM event subclass mod_com_amd fires.
pub const EVENT_SUBCLASS: &str = "AMD::EVENT";

pub struct Call {
    pub uuid: String,
    params: Params,
    inner: Mutex<Inner>,
    decided: AtomicBool,
    stopped: AtomicBool,
    ended: AtomicBool,
    /// waitforresult is blocking the session: break its playback/sleep on a decision.
    waiting: AtomicBool,
    /// We raised CF_BREAK for the waiter and it may not have been consumed yet.
    break_raised: AtomicBool,
    slot_held: AtomicBool,
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
}

impl Call {
    /// A call holding one slot (already taken from [`slots`]).
    pub fn new(uuid: String, params: Params) -> Call {
        Call {
            uuid,
            params,
            inner: Mutex::new(Inner::default()),
            decided: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            waiting: AtomicBool::new(false),
            break_raised: AtomicBool::new(false),
            slot_held: AtomicBool::new(true),
            _in_memory: stats::InMemory::new(),
        }
    }

    pub fn decided(&self) -> bool {
        self.decided.load(Ordering::SeqCst)
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

    /// Feeds one frame; returns the events it produced (in `inner.events`).
    fn feed(&self, session: &Session, frame: &AudioFrame<'_>, inner: &mut Inner) -> Result<(), String> {
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
                        Detector::new(&self.params, target).map_err(|e| format!("cannot start the detector: {e}"))?,
                    )
                }
                Some(d) => d.set_sample_rate(target).map_err(|e| format!("codec change: {e}"))?,
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
        let Inner { detector, resampler, mono, resampled, events, .. } = inner;
        let detector = detector.as_mut().expect("created above");
        let pcm: &[i16] = match resampler {
            Some(r) => {
                r.process(mono, resampled);
                resampled
            }
            None => mono,
        };
        detector.push(pcm, &mut |e| events.push(e));
        Ok(())
    }

    fn on_event(&self, session: &Session, event: Event) {
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
            Event::Decided(d) => self.on_decision(session, d),
        }
    }

    fn on_decision(&self, session: &Session, d: Decision) {
        if self.decided.swap(true, Ordering::SeqCst) {
            return;
        }
        super::stats().record_decision(&d);
        let channel = session.channel();
        let status = d.status.as_str();
        let cause = d.cause.as_str();
        let ms = d.at_ms.to_string();
        channel.set_var("amd_status", status);
        channel.set_var("amd_result", cause);
        channel.set_var("amd_result_ms", &ms);
        fire_custom(
            EVENT_SUBCLASS,
            Some(&channel),
            &[("Action", "Result"), ("AMD-Status", status), ("AMD-Result", cause), ("AMD-Result-MS", &ms)],
        );
        let level = if self.debug() { Level::Info } else { Level::Debug };
        log_session(session, level, &format!("[{}] AMD result {status} ({cause}) at {ms} ms", self.uuid));
        for a in actions::for_decision(d.status, |name| channel.var(name)) {
            let st = session.execute_async(&a.app, a.arg.as_deref());
            let what = format!("{} {}", a.app, a.arg.as_deref().unwrap_or(""));
            if st.is_ok() {
                log_session(session, level, &format!("[{}] AMD {status}: queued {}", self.uuid, what.trim()));
            } else {
                log_session(session, Level::Error, &format!("[{}] AMD {status}: cannot queue {}: {st:?}", self.uuid, what.trim()));
            }
        }
        // The detector is done with the audio: the slot is free for another call.
        self.release_slot();
        if self.waiting.load(Ordering::SeqCst) {
            self.break_raised.store(true, Ordering::SeqCst);
            channel.raise_break();
        }
    }
}

impl BugHandler for Call {
    fn on_frame(&self, session: Session, frame: &AudioFrame<'_>) -> bool {
        if self.decided() || self.stopped.load(Ordering::SeqCst) || self.ended() {
            return false;
        }
        let mut events = {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            if inner.failed {
                return false;
            }
            if let Err(e) = self.feed(&session, frame, &mut inner) {
                inner.failed = true;
                log_session(&session, Level::Error, &format!("[{}] AMD stopped: {e}", self.uuid));
                return false;
            }
            std::mem::take(&mut inner.events)
        };
        for e in events.drain(..) {
            self.on_event(&session, e);
        }
        // Hand the (now empty) buffer back to avoid an allocation per frame.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.events.capacity() == 0 {
            inner.events = events;
        }
        !self.decided()
    }

    fn on_close(&self, _session: Option<Session>) {
        self.ended.store(true, Ordering::SeqCst);
        self.release_slot();
        if let Some(me) = registry::get(&self.uuid) {
            if std::ptr::eq(Arc::as_ptr(&me), self) {
                registry::remove(&me);
            }
        }
        if !self.decided() {
            super::stats().record_undecided();
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
            log(level, &format!("[{}] AMD detection ended by {why} before a decision; channel slot freed", self.uuid));
        } else if self.debug() {
            log(Level::Info, &format!("[{}] AMD detection closed", self.uuid));
        }
    }
}
