//! The module under load and races: a 2,000-channel soak, a decision and a hangup at the same
//! moment, voice_stop from another thread, reload while calls are detecting, amd_stats, and the
//! memory one detecting channel costs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::audio::{interleave, machine, silence, speech};
use crate::fake_core::{call_api, world, Audio, Session};
use crate::memory::{heap_measurable, module_bytes};
use crate::{allocated, host, mono, no_panics, reload, result_events, uuid, TEST_CONFIG};

/// xorshift64: reproducible randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn stats_json() -> serde_json::Value {
    let text = call_api("amd_stats", Some("json"), None);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("amd_stats json is not JSON ({e}): {text}"))
}

fn counter(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn config(max_channels: usize, extra: &str) -> String {
    format!(
        r#"<configuration name="amd.conf"><settings>
        <param name="max_channels" value="{max_channels}"/>{extra}
        </settings></configuration>"#
    )
}

/// Every detection started is accounted for exactly once: decided or ended without a result.
fn assert_accounted(started: u64) {
    let s = stats_json();
    assert_eq!(counter(&s, "decisions") + counter(&s, "ended_without_result"), started, "{s}");
    let by_status: u64 = s["status"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let by_result: u64 = s["result"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!((by_status, by_result), (counter(&s, "decisions"), counter(&s, "decisions")), "{s}");
}

/// A finished call is consistent: one bug added and closed, and a result in the variables if
/// and only if one Result event went out, with the same status.
fn assert_call_consistent(s: &Session) {
    assert_eq!(s.bug_count(), 0, "{}", s.uuid);
    assert_eq!(s.bug_adds.load(Ordering::SeqCst), s.bug_closes.load(Ordering::SeqCst), "{}", s.uuid);
    let results = result_events(&s.uuid);
    match s.var("amd_status") {
        Some(status) => {
            assert_eq!(results.len(), 1, "{}: one Result event", s.uuid);
            assert_eq!(results[0].header("AMD-Status"), Some(status.as_str()));
        }
        None => assert!(results.is_empty(), "{}: a Result event without amd_status", s.uuid),
    }
}

/// The soak: 2,000 channels start detection at staggered moments, are read by four media
/// threads, hang up at random (a third early, the rest some time after their result), have
/// voice_stop sent from another thread now and then, while two more threads call every API
/// command. Bounded: whatever is still up after the deadline is hung up. Afterwards every slot
/// is back, no call is held, every detection is counted once, and the heap is back.
#[test]
fn soak_two_thousand_channels() {
    const CHANNELS: usize = 2000;
    const WORKERS: usize = 4;
    // A few seconds normally; longer under a memory checker, which runs many times slower.
    let deadline = Duration::from_secs(std::env::var("AMD_SOAK_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(6));
    let _h = host();
    reload(&config(CHANNELS, r#"<param name="debug" value="0"/>"#));
    world().logs.lock().unwrap().clear();
    let heap_before = module_bytes();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let signals: Vec<Audio> = vec![
        mono(speech(8000, &[(300, 450)], 0, 9000.0), 8000),
        mono(speech(8000, &[(200, 700), (150, 600), (150, 800), (120, 900)], 0, 9000.0), 8000),
        mono(silence(8000, 50), 8000),
        mono(speech(16000, &[(250, 500)], 0, 9000.0), 16000),
        Audio { samples: interleave(&speech(48000, &[(300, 400)], 0, 9000.0), 2), rate: 48000, channels: 2 },
        mono(speech(44100, &[(100, 2500)], 0, 9000.0), 44100),
        mono(machine(8000), 8000),
    ];
    struct Channel {
        session: Arc<Session>,
        start_round: u64,
        hangup_round: u64,
    }
    let channels: Vec<Arc<Channel>> = (0..CHANNELS)
        .map(|i| {
            let sig = &signals[i % signals.len()];
            let s = Session::new(&uuid("soak2k"), Audio { samples: sig.samples.clone(), rate: sig.rate, channels: sig.channels });
            if i % 2 == 0 {
                s.set_var("amd_execute_on_machine", "transfer machine_found XML default");
                s.set_var("amd_execute_on_person", "transfer person_found XML default");
            }
            let start_round = rng.below(100);
            let hangup_round = start_round + if rng.below(3) == 0 { 1 + rng.below(250) } else { 100 + rng.below(400) };
            Arc::new(Channel { session: s, start_round, hangup_round })
        })
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let api_calls = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut apis = Vec::new();
    for k in 0..2 {
        let (stop, api_calls) = (stop.clone(), api_calls.clone());
        apis.push(std::thread::spawn(move || {
            let mut last_decisions = 0;
            while !stop.load(Ordering::SeqCst) {
                let info = call_api("amd_info", None, None);
                assert!(info.starts_with("AMD license available => "), "{info}");
                let avail = call_api("amd_available", None, None);
                assert!(avail == "true" || avail == "false", "{avail}");
                assert_eq!(call_api("amd_count", None, None), CHANNELS.to_string());
                assert!(call_api("amd_stats", None, None).contains("AMD channels detecting => "));
                let s = stats_json();
                assert!(counter(&s, "channels_detecting") <= CHANNELS as u64, "{s}");
                let d = counter(&s, "decisions");
                assert!(d >= last_decisions, "decisions went down: {d} < {last_decisions}");
                last_decisions = d;
                api_calls.fetch_add(5, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(500 + 300 * k));
            }
        }));
    }
    // voice_stop from outside the session's thread, on random channels.
    let stopper = {
        let (stop, channels) = (stop.clone(), channels.clone());
        std::thread::spawn(move || {
            let mut rng = Rng(0xD1B5_4A32_D192_ED03);
            let mut stops = 0;
            while !stop.load(Ordering::SeqCst) {
                let c = &channels[rng.below(CHANNELS as u64) as usize];
                c.session.execute("voice_stop", None);
                stops += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            stops
        })
    };
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mine: Vec<Arc<Channel>> = channels.iter().skip(w).step_by(WORKERS).cloned().collect();
            let started = started.clone();
            std::thread::spawn(move || {
                let mut done = vec![false; mine.len()];
                let mut round = 0u64;
                while done.iter().any(|d| !d) && t0.elapsed() < deadline {
                    for (c, done) in mine.iter().zip(done.iter_mut()).filter(|(_, d)| !**d) {
                        let s = &c.session;
                        if round < c.start_round {
                            continue;
                        }
                        if round == c.start_round {
                            s.execute("voice_start", Some("total_analysis_time=8000"));
                            started.fetch_add(s.bug_adds.load(Ordering::SeqCst), Ordering::SeqCst);
                            continue;
                        }
                        if round >= c.hangup_round || !s.ready() {
                            s.destroy();
                            *done = true;
                            continue;
                        }
                        s.read_frame();
                        s.parse_all_events();
                    }
                    round += 1;
                }
                for c in &mine {
                    c.session.destroy();
                }
                round
            })
        })
        .collect();
    let rounds: Vec<u64> = workers.into_iter().map(|w| w.join().expect("a worker panicked")).collect();
    stop.store(true, Ordering::SeqCst);
    for a in apis {
        a.join().expect("an API thread panicked");
    }
    let stops = stopper.join().expect("the voice_stop thread panicked");
    let elapsed = t0.elapsed();

    assert_eq!(allocated(), 0, "every slot back");
    let s = stats_json();
    assert_eq!(counter(&s, "calls_in_memory"), 0, "no call held after every hangup: {s}");
    assert_eq!(counter(&s, "channels_detecting"), 0);
    let started = started.load(Ordering::SeqCst) as u64;
    if elapsed < deadline {
        assert_eq!(started, CHANNELS as u64, "every channel started detection");
    }
    assert_accounted(started);
    for c in &channels {
        assert_call_consistent(&c.session);
    }
    let decided = channels.iter().filter(|c| c.session.var("amd_status").is_some()).count();
    assert!(decided > 0, "some channels decided");
    assert_eq!(world().live_events.load(Ordering::SeqCst), 0, "no event leaked");
    assert_eq!(world().locks_held.load(Ordering::SeqCst), 0);
    no_panics();
    drop(channels);
    world().events.lock().unwrap().clear();
    world().logs.lock().unwrap().clear();
    let heap_after = module_bytes();
    let grown = heap_after - heap_before;
    eprintln!(
        "soak: {CHANNELS} channels, {decided} decided, {stops} voice_stop calls from another thread, {} API calls, \
         {:?} rounds per worker, {elapsed:?}; heap outside the host grew {grown} bytes",
        api_calls.load(Ordering::Relaxed),
        rounds
    );
    // The registry's table keeps the capacity it grew to for 2,000 calls (about 100 KiB); one
    // call's state is several KiB, so a leak of even a few dozen calls would show.
    if heap_measurable() {
        assert!(grown < 256 * 1024, "the module's heap grew by {grown} bytes over the soak");
    } else {
        eprintln!("soak: heap figures not available here (valgrind?): checked calls held and slots only");
    }
    reload(TEST_CONFIG);
}

/// A decision and a hangup at the same moment, again and again: the decision lands in the
/// 10th frame (silent_initial=200) while another thread hangs up around then.
#[test]
fn decision_and_hangup_at_the_same_moment() {
    let _h = host();
    reload(&config(300, ""));
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut decided, mut undecided) = (0, 0);
    let rounds = 200;
    for i in 0..rounds {
        let s = Session::new(&uuid("race-hangup"), mono(silence(8000, 1000), 8000));
        s.set_var("amd_execute_on_person", "transfer person_found XML default");
        s.pace_us.store(100, Ordering::SeqCst);
        s.execute("voice_start", Some("silent_initial=200,debug=1"));
        let (media, hanger) = (s.clone(), s.clone());
        let spin = rng.below(40_000);
        let reader = std::thread::spawn(move || {
            while !media.channel.hungup.load(Ordering::SeqCst) && media.read_ms.load(Ordering::SeqCst) < 1000 {
                media.read_frame();
            }
        });
        let hangup = std::thread::spawn(move || {
            let t = Instant::now();
            while hanger.read_ms.load(Ordering::SeqCst) < 180 && t.elapsed() < Duration::from_secs(5) {
                std::hint::spin_loop();
            }
            for _ in 0..spin {
                std::hint::spin_loop();
            }
            hanger.destroy();
        });
        reader.join().expect("reader");
        hangup.join().expect("hangup");
        s.parse_all_events();
        assert_call_consistent(&s);
        assert_eq!(allocated(), 0, "round {i}");
        if s.var("amd_status").is_some() {
            decided += 1;
        } else {
            undecided += 1;
        }
    }
    eprintln!("decision vs hangup: {decided} decided first, {undecided} hung up first");
    assert_accounted(rounds);
    assert_eq!(counter(&stats_json(), "calls_in_memory"), 0);
    no_panics();
    reload(TEST_CONFIG);
}

/// voice_stop from a thread that is not the session's, while the session thread waits in
/// waitforresult and reads the audio: the wait ends, the slot comes back, nothing is left.
#[test]
fn voice_stop_from_another_thread() {
    let _h = host();
    reload(&config(300, ""));
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let rounds = 100;
    for i in 0..rounds {
        let s = Session::new(&uuid("race-stop"), mono(silence(8000, 100), 8000));
        s.pace_us.store(1000, Ordering::SeqCst);
        let plan = crate::dialplan(&[(
            "x",
            &[("voice_start", "silent_initial=300"), ("waitforresult", ""), ("log", "done"), ("hangup", "")],
        )]);
        let session_thread = {
            let s = s.clone();
            std::thread::spawn(move || s.run_dialplan(&plan, "x"))
        };
        let target_ms = 200 + rng.below(200);
        let t = Instant::now();
        while s.read_ms.load(Ordering::SeqCst) < target_ms && !s.channel.hungup.load(Ordering::SeqCst) {
            if t.elapsed() > Duration::from_secs(10) {
                panic!("round {i}: the call never read {target_ms} ms of audio");
            }
            std::thread::yield_now();
        }
        s.execute("voice_stop", None);
        session_thread.join().expect("session thread");
        assert_call_consistent(&s);
        let ex = s.executed.lock().unwrap().clone();
        assert!(ex.iter().any(|e| e.app == "log" && e.arg.as_deref() == Some("done")), "round {i}: waitforresult returned");
        assert_eq!(allocated(), 0, "round {i}");
    }
    assert_accounted(rounds);
    assert_eq!(counter(&stats_json(), "calls_in_memory"), 0);
    no_panics();
    reload(TEST_CONFIG);
}

/// `reload mod_rust_amd` while calls are detecting, from another thread while their audio is
/// being read: they carry on, and decide with the settings they started with (silent_initial
/// 1000 ms); a call started after the reload gets the new ones (3000 ms).
#[test]
fn reload_while_detecting_keeps_each_calls_settings() {
    let _h = host();
    reload(&config(300, r#"<param name="silent_initial" value="1000"/>"#));
    let calls: Vec<Arc<Session>> = (0..20).map(|_| Session::new(&uuid("reload-run"), mono(silence(8000, 100), 8000))).collect();
    for s in &calls {
        s.execute("voice_start", None);
        for _ in 0..10 {
            s.read_frame();
        }
    }
    assert_eq!(allocated(), 20);
    let readers: Vec<_> = calls
        .iter()
        .cloned()
        .map(|s| {
            std::thread::spawn(move || {
                while s.var("amd_status").is_none() && s.read_ms.load(Ordering::SeqCst) < 10_000 {
                    s.read_frame();
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        })
        .collect();
    world().logs.lock().unwrap().clear();
    reload(&config(300, r#"<param name="silent_initial" value="3000"/>"#));
    assert!(calls.iter().any(|s| s.var("amd_status").is_none()), "the reload came while calls were detecting");
    assert!(
        world().logs.lock().unwrap().iter().any(|l| l.text.contains("carry on with the settings they started with")),
        "the unload says the running detections go on"
    );
    for r in readers {
        r.join().unwrap();
    }
    for s in &calls {
        assert_eq!(s.var("amd_result").as_deref(), Some("silent-initial"), "{}", s.uuid);
        assert_eq!(s.var("amd_result_ms").as_deref(), Some("1000"), "{}: decided with its own settings", s.uuid);
        s.destroy();
        assert_call_consistent(s);
    }
    let late = Session::new(&uuid("reload-new"), mono(silence(8000, 100), 8000));
    late.execute("voice_start", None);
    while late.var("amd_status").is_none() && late.read_ms.load(Ordering::SeqCst) < 10_000 {
        late.read_frame();
    }
    assert_eq!(late.var("amd_result_ms").as_deref(), Some("3000"), "a new call gets the new settings");
    late.destroy();
    assert_eq!(allocated(), 0);
    assert_eq!(counter(&stats_json(), "calls_in_memory"), 0);
    no_panics();
    reload(TEST_CONFIG);
}

/// amd_stats counts what was decided since load, per status and result, with p50/p90 of the
/// decision times and the channels detecting now; `json` gives the same figures.
#[test]
fn amd_stats_counts_decisions_since_load() {
    let _h = host();
    reload(&config(300, ""));
    let empty = call_api("amd_stats", None, None);
    assert!(empty.contains("AMD decisions => 0\n") && empty.contains("AMD decision ms p50 => none\n"), "{empty}");
    assert!(stats_json()["decision_ms"]["p90"].is_null());
    // Three silent calls deciding at 500, 1000 and 1500 ms, one still detecting.
    for ms in [500, 1000, 1500] {
        let s = Session::new(&uuid("stats"), mono(silence(8000, 100), 8000));
        s.execute("voice_start", Some(&format!("silent_initial={ms}")));
        while s.var("amd_status").is_none() && s.read_ms.load(Ordering::SeqCst) < 5000 {
            s.read_frame();
        }
        s.destroy();
    }
    let running = Session::new(&uuid("stats-running"), mono(silence(8000, 100), 8000));
    running.execute("voice_start", None);
    let text = call_api("amd_stats", None, None);
    for line in [
        "AMD decisions => 3\n",
        "AMD status person => 3\n",
        "AMD status machine => 0\n",
        "AMD result silent-initial => 3\n",
        "AMD decision ms p50 => 1000\n",
        "AMD decision ms p90 => 1500\n",
        "AMD channels detecting => 1\n",
        "AMD channels max => 300\n",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    let j = stats_json();
    assert_eq!((counter(&j, "decisions"), counter(&j, "channels_detecting")), (3, 1));
    assert_eq!(j["status"]["person"], 3);
    assert_eq!(j["result"]["silent-initial"], 3);
    assert_eq!((j["decision_ms"]["p50"].as_u64(), j["decision_ms"]["p90"].as_u64()), (Some(1000), Some(1500)));
    assert_eq!(counter(&j, "calls_in_memory"), 1);
    assert_eq!(call_api("amd_stats", Some(" JSON "), None).chars().next(), Some('{'));
    let bad = call_api("amd_stats", Some("yaml"), None);
    assert!(bad.starts_with("-ERR") && bad.contains("yaml"), "{bad}");
    running.destroy();
    assert_eq!(counter(&stats_json(), "ended_without_result"), 1);
    // Since load: a reload starts the counts again.
    reload(TEST_CONFIG);
    assert_eq!(counter(&stats_json(), "decisions"), 0);
}

/// The heap one detecting channel costs the module (its call state with the detector, audio
/// buffers, resampler, registry entry and media bug handler), measured over 500 channels each
/// after 100 ms of audio. Printed for docs/development.md; at most 8 KiB.
#[test]
fn memory_per_detecting_channel() {
    const N: usize = 500;
    let _h = host();
    if !heap_measurable() {
        eprintln!("SKIPPED: mallinfo2 does not see this process's heap (valgrind?)");
        return;
    }
    reload(&config(1000, r#"<param name="debug" value="0"/>"#));
    for (label, rate, channels) in [("8 kHz mono", 8000, 1), ("16 kHz mono", 16000, 1), ("44.1 kHz mono (resampled)", 44100, 1), ("48 kHz stereo", 48000, 2)] {
        let sessions: Vec<Arc<Session>> = (0..N)
            .map(|_| {
                let s = Session::new(&uuid("mem"), Audio { samples: interleave(&silence(rate, 200), channels), rate, channels });
                s.set_var("amd_execute_on_machine", "transfer machine_found XML default");
                s
            })
            .collect();
        world().logs.lock().unwrap().clear();
        world().logs.lock().unwrap().shrink_to_fit();
        let before = module_bytes();
        for s in &sessions {
            s.execute("voice_start", None);
            for _ in 0..5 {
                s.read_frame();
            }
        }
        let during = module_bytes();
        assert_eq!(allocated(), N);
        for s in &sessions {
            s.destroy();
        }
        drop(sessions);
        world().logs.lock().unwrap().clear();
        world().logs.lock().unwrap().shrink_to_fit();
        let after = module_bytes();
        let per_channel = (during - before) / N as isize;
        eprintln!(
            "memory per detecting channel, {label}: {per_channel} bytes (heap outside the host: +{} for {N} channels, {:+} after they ended)",
            during - before,
            after - before
        );
        assert!(per_channel > 1000, "{label}: {per_channel} bytes is less than the detector alone: the measurement is broken");
        assert!(per_channel <= 8 * 1024, "{label}: {per_channel} bytes per channel");
    }
    assert_eq!(allocated(), 0);
    assert_eq!(counter(&stats_json(), "calls_in_memory"), 0);
    reload(TEST_CONFIG);
}

/// Audio at a rate the module refuses (4 kHz, 200 kHz): the detection stops with an error
/// naming the rate, the call gets unsure/error, the slot comes back, waitforresult returns;
/// nothing panics.
#[test]
fn unsupported_read_rates_stop_detection_cleanly() {
    let _h = host();
    for rate in [4000, 200_000] {
        let s = Session::new(&uuid("bad-rate"), mono(silence(rate, 100), rate));
        let plan = crate::dialplan(&[("x", &[("voice_start", ""), ("waitforresult", ""), ("log", "done")])]);
        let t = Instant::now();
        crate::run_call(&s, &plan, "x");
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(s.executed.lock().unwrap().iter().any(|e| e.app == "log"), "{rate}: waitforresult returned");
        let logs = crate::logs_for(&s.uuid);
        assert!(logs.iter().any(|l| l.contains(&format!("unsupported read rate {rate} Hz"))), "{rate}: {logs:?}");
        assert!(logs.iter().any(|l| l.contains("ended by an error")), "{rate}: {logs:?}");
        // No call is left without a result: unsure, with the reason in amd_result.
        assert_eq!((s.var("amd_status").as_deref(), s.var("amd_result").as_deref()), (Some("unsure"), Some("error")));
        assert_eq!(s.var("amd_answered_by").as_deref(), Some("unknown"));
        assert_call_consistent(&s);
        assert_eq!(allocated(), 0);
    }
    no_panics();
}
