//! The test host: stands in for the FreeSWITCH core (tests/host/core.rs), loads the built
//! libmod_rust_amd.so by its exported `mod_rust_amd_module_interface`, and drives voice_start,
//! waitforresult, voice_stop and the API commands on simulated channels fed with audio.
//!
//! The module keeps process-wide state (slots, configuration), as it does in FreeSWITCH, so the
//! tests here take turns.

#[path = "host/audio.rs"]
mod audio;
#[path = "shared/built_module.rs"]
mod built_module;
#[path = "host/core.rs"]
mod fake_core;
#[path = "host/memory.rs"]
mod memory;
#[path = "host/robustness.rs"]
mod robustness;

/// Counts this binary's heap so that the module's can be told apart (host/memory.rs).
#[global_allocator]
static HOST_ALLOCATOR: memory::CountingAlloc = memory::CountingAlloc;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use mod_rust_amd::ffi;

use crate::audio::{hello_then_machine, interleave, machine, person, silence};
use crate::fake_core::{call_api, collect_interfaces, world, Audio, Session};

// ---------------------------------------------------------------------------------------------
// Loading the module.

struct Module {
    _lib: libloading::Library,
    table: &'static ffi::switch_loadable_module_function_table_t,
}

// SAFETY: the table is immutable static data in the loaded library, which is never unloaded.
unsafe impl Send for Module {}
unsafe impl Sync for Module {}

const TEST_CONFIG: &str = r#"<configuration name="amd.conf" description="AMD Configuration">
  <settings>
    <param name="max_channels" value="300"/>
    <param name="debug" value="1"/>
  </settings>
</configuration>"#;

fn module() -> &'static Module {
    static M: OnceLock<Module> = OnceLock::new();
    M.get_or_init(|| {
        let path = built_module::path();
        // SAFETY: loading our own module; its initialisers are Rust's and do nothing unusual.
        let lib = unsafe { libloading::Library::new(&path) }.unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()));
        // SAFETY: the exported table has this type.
        let table: &'static ffi::switch_loadable_module_function_table_t = unsafe {
            let sym = lib
                .get::<*const ffi::switch_loadable_module_function_table_t>(b"mod_rust_amd_module_interface\0")
                .expect("mod_rust_amd_module_interface is exported");
            &**sym
        };
        assert_eq!(table.switch_api_version as u32, ffi::SWITCH_API_VERSION);
        assert!(table.runtime.is_none());
        *world().config_xml.lock().unwrap() = Some(TEST_CONFIG.to_string());
        let m = Module { _lib: lib, table };
        load(&m);
        m
    })
}

fn load(m: &Module) {
    let mut mi: *mut ffi::switch_loadable_module_interface_t = std::ptr::null_mut();
    let mut pool_stand_in = 0u64;
    let pool = &mut pool_stand_in as *mut u64 as *mut ffi::switch_memory_pool_t;
    // SAFETY: the module's load function with valid out-pointer and pool.
    let st = unsafe { (m.table.load.unwrap())(&mut mi, pool) };
    assert_eq!(st, ffi::SWITCH_STATUS_SUCCESS, "load failed");
    assert!(!mi.is_null());
    collect_interfaces();
}

/// `reload mod_rust_amd`: shutdown, then load again (re-reading amd.conf.xml).
fn reload(config: &str) {
    let m = module();
    *world().config_xml.lock().unwrap() = Some(config.to_string());
    // SAFETY: the module's shutdown function.
    let st = unsafe { (m.table.shutdown.unwrap())() };
    assert_eq!(st, ffi::SWITCH_STATUS_SUCCESS);
    load(m);
}

/// One test at a time, with the module loaded and the test configuration in force.
fn host() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    module();
    if world().config_xml.lock().unwrap().as_deref() != Some(TEST_CONFIG) {
        reload(TEST_CONFIG);
    }
    assert_eq!(allocated(), 0, "a previous test leaked a slot");
    g
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn allocated() -> usize {
    let info = call_api("amd_info", None, None);
    let line = info.lines().find(|l| l.contains("allocated => ")).expect("an allocated line");
    line.rsplit("=> ").next().unwrap().trim().parse().unwrap()
}

fn uuid(tag: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!("{tag}-{:04}-0000-4000-8000-000000000000", N.fetch_add(1, Ordering::SeqCst))
}

fn mono(samples: Vec<i16>, rate: u32) -> Audio {
    Audio { samples, rate, channels: 1 }
}

type Dialplan = HashMap<String, Vec<(String, String)>>;

fn dialplan(exts: &[(&str, &[(&str, &str)])]) -> Dialplan {
    exts.iter()
        .map(|(n, acts)| (n.to_string(), acts.iter().map(|(a, d)| (a.to_string(), d.to_string())).collect()))
        .collect()
}

/// The page's found/unsure extensions.
const FOUND: &[(&str, &[(&str, &str)])] = &[
    (
        "machine_found",
        &[("playback", "ivr/ivr-welcome_to_freeswitch.wav"), ("log", "CRIT AMD machine"), ("voice_stop", ""), ("hangup", "")],
    ),
    (
        "person_found",
        &[("playback", "misc/if_you_are_this_person.wav"), ("log", "CRIT AMD person"), ("voice_stop", ""), ("hangup", "")],
    ),
    ("amd_unsure", &[("playback", "misc/error.wav"), ("log", "CRIT AMD unsure"), ("voice_stop", ""), ("hangup", "")]),
];

/// The page's self-test extension: waitforresult with a prompt.
const AMD_TEST: &[(&str, &str)] = &[
    ("set", "media_bug_answer_req=true"),
    ("set", "amd_execute_on_machine=transfer machine_found XML default"),
    ("set", "amd_execute_on_person=transfer person_found XML default"),
    ("set", "amd_execute_on_unsure=transfer amd_unsure XML default"),
    ("voice_start", ""),
    ("answer", ""),
    ("waitforresult", "ivr/ivr-one_moment_please.wav"),
    ("sleep", "200"),
    ("playback", "tone_stream://%(200,100,500,400,300,50,25);loops=2"),
    ("sleep", "200"),
    ("log", "CRIT AMD Result is => ${amd_status} => ${amd_result}"),
    ("hangup", ""),
];

fn with_found(ext: &str, acts: &[(&str, &str)]) -> Dialplan {
    let mut v: Vec<(&str, &[(&str, &str)])> = FOUND.to_vec();
    v.push((ext, acts));
    dialplan(&v)
}

/// Runs a call's dialplan as `run_call` does while a separate media thread reads its frames (as
/// in a bridge); returns that thread's id.
fn run_call_read_by_a_media_thread(s: &Arc<Session>, plan: &Dialplan, start: &str) -> std::thread::ThreadId {
    s.media_thread.store(true, Ordering::SeqCst);
    let s2 = s.clone();
    let media = std::thread::spawn(move || {
        let me = std::thread::current().id();
        while !s2.channel.hungup.load(Ordering::SeqCst) {
            s2.read_frame();
            std::thread::sleep(Duration::from_micros(200));
        }
        me
    });
    run_call(s, plan, start);
    media.join().unwrap()
}

/// Runs a call's dialplan in its own (session) thread, to the end.
fn run_call(s: &Arc<Session>, plan: &Dialplan, start: &str) {
    let s2 = s.clone();
    let plan = plan.clone();
    let start = start.to_string();
    std::thread::spawn(move || s2.run_dialplan(&plan, &start)).join().expect("session thread");
}

fn events_for(uuid: &str) -> Vec<fake_core::FiredEvent> {
    world().events.lock().unwrap().iter().filter(|e| e.header("Unique-ID") == Some(uuid)).cloned().collect()
}

/// The call's Result events (its decision, or the error that stood in for one).
fn result_events(uuid: &str) -> Vec<fake_core::FiredEvent> {
    events_for(uuid).into_iter().filter(|e| e.header("Action") == Some("Result")).collect()
}

/// The destinations of the transfers the session ran, in order.
fn transfers(s: &Session) -> Vec<Option<String>> {
    s.executed.lock().unwrap().iter().filter(|e| e.app == "transfer").map(|e| e.arg.clone()).collect()
}

fn logs_for(uuid: &str) -> Vec<String> {
    world().logs.lock().unwrap().iter().filter(|l| l.text.contains(uuid)).map(|l| l.text.clone()).collect()
}

fn no_panics() {
    let logs = world().logs.lock().unwrap();
    let p: Vec<_> = logs.iter().filter(|l| l.text.contains("panic")).collect();
    assert!(p.is_empty(), "the module logged panics: {p:?}");
}

/// Checks a finished call: result variables, events, actions in the session thread, cleanup.
fn check_decided(s: &Session, want_status: &str) {
    let status = s.var("amd_status").expect("amd_status set");
    let result = s.var("amd_result").expect("amd_result set");
    let ms: u64 = s.var("amd_result_ms").expect("amd_result_ms set").parse().unwrap();
    assert_eq!(status, want_status, "amd_result={result} at {ms} ms");
    assert!(ms > 0 && ms <= 5000 + 100, "decision at {ms} ms");
    assert!(events_for(&s.uuid).iter().all(|e| e.subclass == "AMD::EVENT"));
    let results = result_events(&s.uuid);
    assert_eq!(results.len(), 1, "one result event");
    assert_eq!(results[0].header("AMD-Status"), Some(status.as_str()));
    assert_eq!(results[0].header("variable_amd_status"), Some(status.as_str()));
    assert_eq!(results[0].header("AMD-Result"), Some(result.as_str()));
    // app_amd's AMDCAUSE form: CAUSE-<figure>[-<limit>], the same in the variable and the event.
    let cause = s.var("amd_cause").expect("amd_cause set");
    let (name, figures) = cause.split_once('-').unwrap_or_else(|| panic!("amd_cause {cause:?}"));
    assert!(name.chars().all(|c| c.is_ascii_uppercase()) && figures.split('-').all(|n| n.parse::<u64>().is_ok()), "amd_cause {cause:?}");
    assert_eq!(results[0].header("AMD-Cause"), Some(cause.as_str()));
    assert_eq!(results[0].header("variable_amd_cause"), Some(cause.as_str()));
    // The confidence: two decimals from 0 to 1, the same in the variable and the event; a tone
    // is sure, unsure is not.
    let confidence = s.var("amd_confidence").expect("amd_confidence set");
    let value: f32 = confidence.parse().unwrap_or_else(|_| panic!("amd_confidence {confidence:?}"));
    assert!((0.0..=1.0).contains(&value) && confidence.len() == 4, "amd_confidence {confidence:?}");
    assert_eq!(results[0].header("AMD-Confidence"), Some(confidence.as_str()));
    match result.as_str() {
        "beep" | "fax" | "sit" => assert_eq!(confidence, "1.00"),
        "too-long" => assert_eq!(confidence, "0.00"),
        _ => {}
    }
    // Actions ran in the session's thread.
    let session_thread = s.session_thread.lock().unwrap().unwrap();
    let ex = s.executed.lock().unwrap();
    let transfers: Vec<_> = ex.iter().filter(|e| e.app == "transfer").collect();
    let want_dest = match want_status {
        "machine" => "machine_found XML default",
        "person" => "person_found XML default",
        _ => "amd_unsure XML default",
    };
    assert_eq!(transfers.len(), 1, "{ex:?}");
    assert_eq!(transfers[0].arg.as_deref(), Some(want_dest));
    assert!(ex.iter().all(|e| e.thread == session_thread), "an action ran outside the session thread");
    assert_eq!(s.bug_count(), 0);
    assert_eq!(s.bug_adds.load(Ordering::SeqCst), s.bug_closes.load(Ordering::SeqCst));
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn load_registers_the_mod_com_amd_interface() {
    let _h = host();
    let w = world();
    for app in ["voice_start", "voice_stop", "waitforresult"] {
        assert!(w.apps.lock().unwrap().get(app).copied().flatten().is_some(), "{app}");
    }
    for api in ["amd_info", "amd_available", "amd_count", "uuid_voice_start", "uuid_voice_stop", "amd_stats"] {
        assert!(w.apis.lock().unwrap().get(api).copied().flatten().is_some(), "{api}");
    }
    let info = call_api("amd_info", None, None);
    assert_eq!(info, "AMD license available => 300\nAMD license allocated => 0\n");
    assert_eq!(call_api("amd_available", Some(""), None), "true");
    assert_eq!(call_api("amd_count", None, None), "300");
    // ${regex ${amd_info()}|available => 0} must be false while channels are free.
    assert!(!info.contains("available => 0\n"));
    assert!(w.reserved.lock().unwrap().iter().any(|r| r.ends_with("/AMD::EVENT")));
    assert_eq!(w.live_xml.load(Ordering::SeqCst), 0, "config XML freed");
}

#[test]
fn reload_rereads_config_and_logs_bad_values() {
    let _h = host();
    let bad = r#"<configuration name="amd.conf"><settings>
        <param name="max_channels" value="many"/>
        <param name="silent_initial" value="soon"/>
        <param name="noise_max_count" value="9"/>
        <param name="colour" value="blue"/>
    </settings></configuration>"#;
    world().logs.lock().unwrap().clear();
    reload(bad);
    let logs: Vec<String> = world().logs.lock().unwrap().iter().map(|l| l.text.clone()).collect();
    for (k, v) in [("max_channels", "many"), ("silent_initial", "soon"), ("colour", "blue")] {
        assert!(logs.iter().any(|l| l.contains(k) && l.contains(v)), "no log for {k}={v}: {logs:?}");
    }
    assert_eq!(call_api("amd_count", None, None), "1000", "default kept");
    reload(r#"<configuration name="amd.conf"><settings><param name="max_channels" value="2"/></settings></configuration>"#);
    assert_eq!(call_api("amd_count", None, None), "2");

    // With every slot taken, amd_available says false and amd_info shows available => 0.
    let a = Session::new(&uuid("full-a"), mono(silence(8000, 100), 8000));
    let b = Session::new(&uuid("full-b"), mono(silence(8000, 100), 8000));
    let c = Session::new(&uuid("full-c"), mono(silence(8000, 100), 8000));
    c.set_var("amd_execute_on_unsure", "transfer amd_unsure XML default");
    for s in [&a, &b, &c] {
        s.execute("voice_start", None);
    }
    assert_eq!(call_api("amd_available", None, None), "false");
    assert!(call_api("amd_info", None, None).contains("available => 0\n"));
    assert_eq!(c.bug_count(), 0, "no slot, no detection");
    assert!(logs_for(&c.uuid).iter().any(|l| l.contains("no AMD channel free")));
    // ... but the call still gets a result, at once, and its unsure action runs.
    assert_eq!((c.var("amd_status").as_deref(), c.var("amd_result").as_deref()), (Some("unsure"), Some("error")));
    let results = result_events(&c.uuid);
    assert_eq!(results.len(), 1, "one result event");
    assert_eq!(results[0].header("AMD-Error"), Some("no AMD channel free (2 in use, max_channels 2)"));
    assert_eq!(transfers(&c), vec![Some("amd_unsure XML default".to_string())]);
    assert!(a.var("amd_status").is_none() && b.var("amd_status").is_none(), "detecting, no result yet");
    a.execute("voice_stop", None);
    assert_eq!(call_api("amd_available", None, None), "true");
    b.destroy();
    a.destroy();
    c.destroy();
    assert_eq!(allocated(), 0);
    reload(TEST_CONFIG);
    no_panics();
}

#[test]
fn voice_stop_and_waitforresult_without_voice_start() {
    let _h = host();
    let s = Session::new(&uuid("none"), mono(silence(8000, 100), 8000));
    let plan = dialplan(&[(
        "x",
        &[("voice_stop", ""), ("waitforresult", "ivr/ivr-one_moment_please.wav"), ("waitforresult", ""), ("voice_stop", "")],
    )]);
    let t = Instant::now();
    run_call(&s, &plan, "x");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(s.read_ms.load(Ordering::SeqCst), 0, "returned at once");
    assert!(s.played.lock().unwrap().is_empty());
    assert!(s.var("amd_status").is_none());
    assert_eq!(allocated(), 0);
}

#[test]
fn garbage_in_voice_start_data_is_logged_and_detection_still_runs() {
    let _h = host();
    let s = Session::new(&uuid("garbage"), mono(silence(8000, 100), 8000));
    let data = "silent_threshold=abc,,=,foo,total_analysis_time=99999999, noise_max_count=3,colour=blue,\u{7f}\u{1}=x ;;; debug=maybe";
    s.execute("voice_start", Some(data));
    assert_eq!(s.bug_count(), 1, "detection runs with the good values");
    assert_eq!(allocated(), 1);
    let logs = logs_for(&s.uuid);
    for needle in ["silent_threshold", "abc", "foo", "total_analysis_time", "99999999", "colour", "debug"] {
        assert!(logs.iter().any(|l| l.contains(needle)), "no warning mentioning {needle}: {logs:?}");
    }
    s.execute("voice_stop", None);
    assert_eq!(s.bug_count(), 0);
    assert_eq!(allocated(), 0);
    s.destroy();
}

#[test]
fn voice_start_twice_keeps_one_detection() {
    let _h = host();
    let s = Session::new(&uuid("twice"), mono(silence(8000, 100), 8000));
    s.execute("voice_start", None);
    s.execute("voice_start", Some("debug=1"));
    assert_eq!(s.bug_count(), 1);
    assert_eq!(allocated(), 1);
    assert!(logs_for(&s.uuid).iter().any(|l| l.contains("already running")));
    s.execute("voice_stop", None);
    s.execute("voice_stop", None);
    assert_eq!(allocated(), 0);
    assert_eq!(s.bug_adds.load(Ordering::SeqCst), 1);
    assert_eq!(s.bug_closes.load(Ordering::SeqCst), 1);
    s.destroy();
}

#[test]
fn hangup_before_a_decision_frees_the_slot_and_logs_it() {
    let _h = host();
    let s = Session::new(&uuid("hangup"), mono(silence(8000, 100), 8000));
    s.execute("voice_start", None);
    assert_eq!(allocated(), 1);
    s.destroy();
    assert_eq!(allocated(), 0);
    assert_eq!(s.bug_closes.load(Ordering::SeqCst), 1);
    assert!(s.var("amd_status").is_none(), "no result without a decision");
    assert!(logs_for(&s.uuid).iter().any(|l| l.contains("hangup before a decision")), "{:?}", logs_for(&s.uuid));
}

/// A paced call of `silence_ms` of silence whose extension "x" starts detection that cannot decide
/// within the test (a 60 s analysis time) and blocks in waitforresult playing `prompt`: only
/// something from outside can end the wait.
fn waiting_without_a_decision(tag: &str, silence_ms: u32, prompt: &str) -> (Arc<Session>, Dialplan) {
    let s = Session::new(&uuid(tag), mono(silence(8000, silence_ms), 8000));
    s.pace_us.store(2000, Ordering::SeqCst);
    let plan = dialplan(&[("x", &[("voice_start", "total_analysis_time=60000,silent_initial=60000"), ("waitforresult", prompt)])]);
    (s, plan)
}

#[test]
fn waitforresult_returns_on_hangup() {
    let _h = host();
    let (s, plan) = waiting_without_a_decision("wait-hangup", 60_000, "ivr/ivr-one_moment_please.wav");
    let s2 = s.clone();
    let far_end = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        s2.hangup();
    });
    let t = Instant::now();
    run_call(&s, &plan, "x");
    far_end.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(s.var("amd_status").is_none());
    assert_eq!(allocated(), 0);
    assert_eq!(s.bug_count(), 0);
}

#[test]
fn page_test_dialplan_machine() {
    let _h = host();
    let s = Session::new(&uuid("machine"), mono(machine(8000), 8000));
    s.channel.answered.store(false, Ordering::SeqCst);
    run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
    check_decided(&s, "machine");
    let played = s.played.lock().unwrap().clone();
    assert_eq!(played.first().map(String::as_str), Some("ivr/ivr-one_moment_please.wav"));
    assert!(played.contains(&"ivr/ivr-welcome_to_freeswitch.wav".to_string()), "{played:?}");
    let evs = events_for(&s.uuid);
    assert!(evs.iter().any(|e| e.header("Action") == Some("Start Talking")));
    assert!(logs_for(&s.uuid).iter().any(|l| l.contains("AMD result machine")), "debug logs the decision");
    assert_eq!(allocated(), 0);
    no_panics();
}

#[test]
fn page_test_dialplan_person() {
    let _h = host();
    let s = Session::new(&uuid("person"), mono(person(8000), 8000));
    s.channel.answered.store(false, Ordering::SeqCst);
    run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
    check_decided(&s, "person");
    assert!(s.played.lock().unwrap().contains(&"misc/if_you_are_this_person.wav".to_string()));
    let evs = events_for(&s.uuid);
    assert!(evs.iter().any(|e| e.header("Action") == Some("Start Talking")));
    assert!(evs.iter().any(|e| e.header("Action") == Some("Stop Talking")));
    assert_eq!(allocated(), 0);
    no_panics();
}

#[test]
fn silence_is_a_silent_initial_person() {
    let _h = host();
    let s = Session::new(&uuid("silence"), mono(silence(8000, 20_000), 8000));
    run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
    check_decided(&s, "person");
    assert_eq!(s.var("amd_result").as_deref(), Some("silent-initial"));
    assert_eq!(allocated(), 0);
}

/// uuid_voice_stop from another thread ends a waitforresult that is playing its prompt at
/// once, not when the prompt ends.
#[test]
fn uuid_voice_stop_wakes_waitforresult() {
    let _h = host();
    let (s, plan) = waiting_without_a_decision("stop-wakes", 30_000, "ivr/ivr-welcome_to_freeswitch.wav");
    let s2 = s.clone();
    let stopper = std::thread::spawn(move || {
        while s2.read_ms.load(Ordering::SeqCst) < 200 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(call_api("uuid_voice_stop", Some(&s2.uuid), None), "+OK\n");
        s2.read_ms.load(Ordering::SeqCst)
    });
    run_call(&s, &plan, "x");
    let stopped_at = stopper.join().unwrap();
    let read = s.read_ms.load(Ordering::SeqCst);
    // The prompt lasts 2000 ms; stopped at about 200 ms, the wait ends a frame or two later.
    assert!(read < stopped_at + 300, "waitforresult went on for {} ms after voice_stop", read - stopped_at);
    assert!(s.var("amd_status").is_none(), "stopped before a decision: no result");
    assert_eq!(allocated(), 0);
}

/// Audio the module cannot take (read at 4 kHz) still ends in a result: unsure, error, its
/// event, and amd_execute_on_unsure, and the slot comes back.
#[test]
fn audio_it_cannot_take_gives_unsure_error_and_runs_the_unsure_action() {
    let _h = host();
    let s = Session::new(&uuid("rate-4k"), mono(silence(4000, 10_000), 4000));
    run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
    assert_eq!(s.var("amd_status").as_deref(), Some("unsure"));
    assert_eq!(s.var("amd_result").as_deref(), Some("error"));
    let results = result_events(&s.uuid);
    assert_eq!(results.len(), 1, "one result event");
    assert!(results[0].header("AMD-Error").is_some_and(|e| e.contains("4000")), "{:?}", results[0].header("AMD-Error"));
    assert_eq!(transfers(&s), vec![Some("amd_unsure XML default".to_string())]);
    assert_eq!(allocated(), 0);
    assert_eq!(s.bug_count(), 0);
}

/// A panic of ours (injected: the build with the fault-injection feature, which scripts/test
/// runs) does not cross the FFI edge. In detection, it is caught in the media bug's callback and
/// the call still ends like any other that cannot go on: unsure, error with the panic's text, its
/// Result event, amd_execute_on_unsure, waitforresult returning, the slot and the bug given back;
/// the next call is detected as usual. In an API command it becomes an -ERR reply.
#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs the module built with --features fault-injection (scripts/test runs it)")]
fn an_injected_panic_is_caught_and_the_call_still_gets_its_result() {
    let _h = host();
    let s = Session::new(&uuid("fault"), mono(person(8000), 8000));
    s.set_var("amd_fault_injection", "detection");
    run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
    assert_eq!((s.var("amd_status").as_deref(), s.var("amd_result").as_deref()), (Some("unsure"), Some("error")));
    let results = result_events(&s.uuid);
    assert_eq!(results.len(), 1, "one result event");
    assert_eq!(results[0].header("AMD-Error"), Some("internal error: fault injected at detection"));
    let logs = logs_for(&s.uuid);
    assert!(logs.iter().any(|l| l.contains("AMD stopped: internal error: fault injected at detection")), "{logs:?}");
    assert_eq!(transfers(&s), vec![Some("amd_unsure XML default".to_string())]);
    assert_eq!(allocated(), 0);
    assert_eq!(s.bug_count(), 0);

    let next = Session::new(&uuid("after-fault"), mono(machine(8000), 8000));
    run_call(&next, &with_found("amd_test", AMD_TEST), "amd_test");
    check_decided(&next, "machine");
    assert_eq!(allocated(), 0);

    // A panic while voice_start sets up (after the slot is taken and the call registered, before
    // the media bug) is caught the same way: a result at once, nothing left behind. (The unsure
    // action of a start that fails is checked where no slot is free.)
    let at_start = Session::new(&uuid("fault-start"), mono(machine(8000), 8000));
    at_start.set_var("amd_fault_injection", "start");
    at_start.execute("voice_start", None);
    assert_eq!((at_start.var("amd_status").as_deref(), at_start.var("amd_result").as_deref()), (Some("unsure"), Some("error")));
    let results = result_events(&at_start.uuid);
    assert_eq!(results.len(), 1, "one result event");
    assert_eq!(results[0].header("AMD-Error"), Some("internal error: fault injected at start"));
    assert_eq!((allocated(), at_start.bug_count()), (0, 0), "slot and bug given back");
    // Not left registered: the channel can start detection again.
    at_start.set_var("amd_fault_injection", "");
    at_start.execute("voice_start", None);
    assert_eq!((allocated(), at_start.bug_count()), (1, 1), "{:?}", logs_for(&at_start.uuid));
    at_start.execute("voice_stop", None);
    assert_eq!(allocated(), 0);
    at_start.destroy();

    std::env::set_var("AMD_FAULT_INJECTION", "api");
    let reply = call_api("amd_info", None, None);
    std::env::remove_var("AMD_FAULT_INJECTION");
    assert!(reply.starts_with("-ERR amd_info failed: panic: fault injected at api"), "{reply:?}");
    assert!(call_api("amd_info", None, None).contains("allocated => 0"));
}

/// A prompt with no audio in it must not spin waitforresult: it waits in silence instead, and
/// the call still gets its result.
#[test]
fn waitforresult_with_an_empty_file_waits_in_silence() {
    let _h = host();
    let s = Session::new(&uuid("empty-file"), mono(silence(8000, 20_000), 8000));
    let acts: Vec<(&str, &str)> =
        AMD_TEST.iter().map(|&(app, arg)| if app == "waitforresult" { (app, "empty.wav") } else { (app, arg) }).collect();
    let plan = with_found("amd_test", &acts);
    let s2 = s.clone();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        run_call(&s2, &plan, "amd_test");
        let _ = done.send(());
    });
    // Without the fallback the session thread loops on the empty file for ever.
    assert!(finished.recv_timeout(Duration::from_secs(20)).is_ok(), "waitforresult spun on the empty file");
    check_decided(&s, "person");
    assert_eq!(s.var("amd_result").as_deref(), Some("silent-initial"));
    assert!(logs_for(&s.uuid).iter().any(|l| l.contains("empty.wav has no audio; waiting in silence")), "{:?}", logs_for(&s.uuid));
    assert_eq!(allocated(), 0);
}

/// Settings under Asterisk app_amd's names in voice_start's data (the FlexML screening page's Amd
/// verb): initial silence is a machine, amd_cause is INITIALSILENCE-<silence>-<initialSilence>;
/// an unknown name is logged by name and the rest still applies.
#[test]
fn app_amd_names_in_voice_start_and_amd_cause() {
    let _h = host();
    let s = Session::new(&uuid("app-amd"), mono(silence(8000, 20_000), 8000));
    let plan = with_found(
        "x",
        &[
            ("set", "amd_execute_on_machine=transfer machine_found XML default"),
            ("set", "amd_execute_on_person=transfer person_found XML default"),
            ("voice_start", "initialSilence=3000,greeting=2000,afterGreetingSilence=500,totalAnalysisTime=8000,maximumWords=3"),
            ("waitforresult", ""),
        ],
    );
    run_call(&s, &plan, "x");
    check_decided(&s, "machine");
    assert_eq!(s.var("amd_result").as_deref(), Some("silent-initial"));
    assert_eq!(s.var("amd_result_ms").as_deref(), Some("3000"));
    assert_eq!(s.var("amd_cause").as_deref(), Some("INITIALSILENCE-3000-3000"));
    let logs = logs_for(&s.uuid);
    assert!(
        logs.iter().any(|l| l.contains("maximumWords") && l.contains("unknown parameter")),
        "the unknown name is logged: {logs:?}"
    );
    assert_eq!(allocated(), 0);
    no_panics();
}

/// The page's first example: no waitforresult; the action lands while playback runs.
/// A machine's audio (greeting, pause, beep) and where its beep starts and ends, in ms.
fn machine_with_beep(rate: u32) -> (Vec<i16>, u64, u64) {
    let samples = machine(rate);
    let ms = |i: usize| (i as u64) * 1000 / u64::from(rate);
    let first_loud = samples.iter().rposition(|&v| v.abs() > 100).expect("the beep's end");
    let beep_end = ms(first_loud);
    (samples, beep_end - 500, beep_end)
}

/// What the message-end variables said of a beep.
struct BeepHeard {
    /// amd_message_end_ms: when the beep was established.
    end_ms: u64,
    /// amd_beep_ms and amd_beep_end_ms.
    heard_beep: u64,
    beep_over: u64,
}

/// Checks the message-end variables of a call whose greeting ended with the beep that starts
/// at `beep_start` and ends at `beep_end` (ms), decided before it.
fn beep_heard(s: &Session, beep_start: u64, beep_end: u64) -> BeepHeard {
    let ms = |name: &str| -> u64 { s.var(name).unwrap_or_else(|| panic!("{name} set")).parse().unwrap() };
    assert_eq!(s.var("amd_message_end").as_deref(), Some("beep"));
    let end_ms = ms("amd_message_end_ms");
    assert!((beep_start..=beep_start + 150).contains(&end_ms), "beep at {beep_start}, reported at {end_ms}");
    let heard_beep = ms("amd_beep_ms");
    assert!(heard_beep.abs_diff(beep_start) <= 30, "{heard_beep} vs {beep_start}");
    let beep_over = ms("amd_beep_end_ms");
    assert!(beep_over.abs_diff(beep_end) <= 40, "{beep_over} vs {beep_end}");
    let decided = ms("amd_result_ms");
    assert!(decided < beep_start, "decided at {decided}");
    BeepHeard { end_ms, heard_beep, beep_over }
}

#[test]
fn waitforresult_returns_after_the_beep_and_runs_amd_execute_on_message_end() {
    let _h = host();
    let (audio, beep_start, beep_end) = machine_with_beep(8000);
    let s = Session::new(&uuid("msgend"), mono(audio, 8000));
    let plan = dialplan(&[(
        "drop",
        &[
            ("set", "amd_execute_on_message_end=log INFO greeting over"),
            ("voice_start", "detect_message_end=true"),
            ("waitforresult", ""),
            ("log", "INFO after waitforresult"),
        ],
    )]);
    run_call(&s, &plan, "drop");
    assert_eq!(s.var("amd_status").as_deref(), Some("machine"));
    assert_eq!(s.var("amd_answered_by").as_deref(), Some("machine_end_beep"));
    let BeepHeard { end_ms, beep_over, .. } = beep_heard(&s, beep_start, beep_end);
    // waitforresult held the call until the beep was over, not just until the decision.
    assert!(s.read_ms.load(Ordering::SeqCst) >= beep_over, "read {} ms", s.read_ms.load(Ordering::SeqCst));
    let ex = s.executed.lock().unwrap().clone();
    let session_thread = s.session_thread.lock().unwrap().unwrap();
    assert!(ex.iter().any(|e| e.app == "log" && e.arg.as_deref() == Some("INFO greeting over") && e.thread == session_thread), "{ex:?}");
    let evs = events_for(&s.uuid);
    let result = evs.iter().find(|e| e.header("Action") == Some("Result")).expect("result event");
    assert_eq!(result.header("AMD-Answered-By"), Some("machine_start"));
    assert_eq!(result.header("AMD-Awaiting-Message-End"), Some("true"));
    let end = evs.iter().find(|e| e.header("Action") == Some("Message End")).expect("message end event");
    assert_eq!(end.header("AMD-Message-End"), Some("beep"));
    assert_eq!(end.header("AMD-Status"), Some("machine"));
    assert_eq!(end.header("AMD-Answered-By"), Some("machine_end_beep"));
    assert_eq!(end.header("AMD-Message-End-MS").map(str::to_string), Some(end_ms.to_string()));
    assert_eq!(s.bug_count(), 0);
    assert_eq!(allocated(), 0);
    no_panics();
}

#[test]
fn without_message_end_the_slot_is_free_at_the_decision() {
    let _h = host();
    let (audio, _, _) = machine_with_beep(8000);
    let s = Session::new(&uuid("nomsgend"), mono(audio, 8000));
    run_call(&s, &dialplan(&[("x", &[("voice_start", ""), ("waitforresult", "")])]), "x");
    assert_eq!(s.var("amd_answered_by").as_deref(), Some("machine_start"));
    assert!(s.var("amd_message_end").is_none());
    let decided: u64 = s.var("amd_result_ms").unwrap().parse().unwrap();
    assert!(s.read_ms.load(Ordering::SeqCst) < decided + 200, "waitforresult returned at the decision");
    assert_eq!(allocated(), 0);
}

#[test]
fn uuid_voice_start_and_stop_drive_detection_from_the_api() {
    let _h = host();
    let (audio, _, _) = machine_with_beep(8000);
    let s = Session::new(&uuid("api"), mono(audio, 8000));
    // Bad requests: a clear -ERR, nothing started, no slot taken.
    assert!(call_api("uuid_voice_start", None, None).starts_with("-ERR usage"));
    assert!(call_api("uuid_voice_start", Some("  "), None).starts_with("-ERR usage"));
    assert!(call_api("uuid_voice_start", Some("no-such-uuid"), None).starts_with("-ERR no such channel no-such-uuid"));
    let bad = call_api("uuid_voice_start", Some(&format!("{} silent_initial=soon,colour=blue", s.uuid)), None);
    assert!(bad.starts_with("-ERR") && bad.contains("silent_initial") && bad.contains("soon") && bad.contains("colour"), "{bad}");
    assert_eq!((s.bug_count(), allocated()), (0, 0));
    assert!(call_api("uuid_voice_stop", Some(&s.uuid), None).starts_with(&format!("-ERR no AMD running on {}", s.uuid)));
    assert!(call_api("uuid_voice_stop", Some(&format!("{} extra", s.uuid)), None).starts_with("-ERR unexpected argument"));
    assert!(call_api("uuid_voice_stop", Some("nobody"), None).starts_with("-ERR no such channel"));

    // A good one, with data over several lines as an ESL client may send it.
    let reply = call_api("uuid_voice_start", Some(&format!("{}  detect_message_end=true,\n silent_initial=4000", s.uuid)), None);
    assert_eq!(reply, "+OK\n");
    assert_eq!((s.bug_count(), allocated()), (1, 1));
    assert!(call_api("uuid_voice_start", Some(&s.uuid), None).starts_with("-ERR AMD already running"));
    run_call(&s, &dialplan(&[("park", &[("sleep", "9000")])]), "park");
    let evs = events_for(&s.uuid);
    let result = evs.iter().find(|e| e.header("Action") == Some("Result")).expect("result event");
    assert_eq!(result.header("Unique-ID"), Some(s.uuid.as_str()));
    assert_eq!(result.header("AMD-Status"), Some("machine"));
    assert!(result.header("AMD-Result-MS").is_some_and(|v| v.parse::<u64>().is_ok()));
    let end = evs.iter().find(|e| e.header("Action") == Some("Message End")).expect("message end event");
    assert_eq!(end.header("Unique-ID"), Some(s.uuid.as_str()));
    assert_eq!(end.header("AMD-Message-End"), Some("beep"));
    assert_eq!(allocated(), 0);

    // uuid_voice_stop on a live detection frees its slot at once.
    let t = Session::new(&uuid("api-stop"), mono(silence(8000, 20_000), 8000));
    assert_eq!(call_api("uuid_voice_start", Some(&t.uuid), None), "+OK\n");
    assert_eq!(allocated(), 1);
    assert_eq!(call_api("uuid_voice_stop", Some(&t.uuid), None), "+OK\n");
    assert_eq!((t.bug_count(), allocated()), (0, 0));
    assert!(t.var("amd_status").is_none());
    t.destroy();
    no_panics();
}

#[test]
fn action_runs_while_the_dialplan_has_moved_on() {
    let _h = host();
    let s = Session::new(&uuid("moved-on"), mono(machine(8000), 8000));
    let welcome = "/usr/local/freeswitch/sounds/en/us/callie/ivr/8000/ivr-welcome_to_freeswitch.wav";
    let plan = with_found(
        "amd_example",
        &[
            ("set", "media_bug_answer_req=true"),
            ("set", "amd_execute_on_machine=transfer machine_found XML default"),
            ("set", "execute_on_machine_app=log"),
            ("set", "execute_on_machine_arg=CRIT machine via execute_on_machine_app"),
            ("voice_start", ""),
            ("playback", "silence_stream://100,1000"),
            ("sleep", "20000"),
            ("playback", welcome),
            ("hangup", ""),
        ],
    );
    run_call(&s, &plan, "amd_example");
    assert_eq!(s.var("amd_status").as_deref(), Some("machine"));
    let ex = s.executed.lock().unwrap().clone();
    let session_thread = s.session_thread.lock().unwrap().unwrap();
    let t = ex.iter().position(|e| e.app == "transfer").expect("transferred");
    assert!(ex.iter().any(|e| e.app == "log" && e.arg.as_deref() == Some("CRIT machine via execute_on_machine_app")));
    assert!(ex.iter().all(|e| e.thread == session_thread));
    // The transfer interrupted the 20 s sleep: far less audio than that went by.
    assert!(s.read_ms.load(Ordering::SeqCst) < 15_000, "{}", s.read_ms.load(Ordering::SeqCst));
    assert!(ex[t..].iter().any(|e| e.app == "playback" && e.arg.as_deref() == Some("ivr/ivr-welcome_to_freeswitch.wav")));
    assert_eq!(allocated(), 0);
}

/// Frames read by a separate media thread (as in a bridge): actions still run in the session's.
#[test]
fn media_thread_reads_session_thread_acts() {
    let _h = host();
    let s = Session::new(&uuid("media-thread"), mono(machine(8000), 8000));
    let plan = with_found(
        "x",
        &[("set", "amd_execute_on_machine=transfer machine_found XML default"), ("voice_start", ""), ("sleep", "20000")],
    );
    let media_id = run_call_read_by_a_media_thread(&s, &plan, "x");
    check_decided(&s, "machine");
    assert!(s.executed.lock().unwrap().iter().all(|e| e.thread != media_id));
}

#[test]
fn every_rate_and_channel_layout() {
    let _h = host();
    for (rate, channels) in [(8000, 1), (16000, 1), (48000, 1), (48000, 2), (32000, 1), (44100, 1), (22050, 1)] {
        for (want, sig) in [("machine", machine(rate)), ("person", person(rate))] {
            let s = Session::new(&uuid(&format!("rate{rate}x{channels}")), Audio {
                samples: interleave(&sig, channels),
                rate,
                channels,
            });
            run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
            assert_eq!(s.var("amd_status").as_deref(), Some(want), "{rate} Hz x{channels}: {:?}", s.var("amd_result"));
            check_decided(&s, want);
        }
    }
    assert_eq!(allocated(), 0);
    no_panics();
}

#[test]
fn long_packets_at_48_khz_stereo_reach_the_detector_whole() {
    // Some endpoints send 60 ms or more per packet: at 48 kHz stereo a 120 ms packet is 23,040
    // bytes, all of which must reach the detector for the decision to come at the right time.
    let _h = host();
    for packet_ms in [60, 120] {
        for (want, sig) in [("machine", machine(48000)), ("person", person(48000))] {
            let s = Session::new(&uuid(&format!("ptime{packet_ms}")), Audio { samples: interleave(&sig, 2), rate: 48000, channels: 2 });
            s.packet_ms.store(packet_ms, Ordering::SeqCst);
            run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
            assert_eq!(s.var("amd_status").as_deref(), Some(want), "ptime {packet_ms}: {:?}", s.var("amd_result"));
            check_decided(&s, want);
            let mut reference = mod_rust_amd::Detector::new(&mod_rust_amd::Params::default(), 48000).unwrap();
            let mut decided = None;
            for frame in sig.chunks(48 * 20) {
                reference.push(frame, &mut |_| {});
                if let Some(d) = reference.decision() {
                    decided = Some(d.at_ms);
                    break;
                }
            }
            let at: u64 = s.var("amd_result_ms").unwrap().parse().unwrap();
            assert_eq!(Some(at), decided, "ptime {packet_ms}, {want}: the module heard every sample");
        }
    }
    assert_eq!(allocated(), 0);
    no_panics();
}

#[test]
fn answer_req_defers_detection_to_answer() {
    let _h = host();
    let s = Session::new(&uuid("answer-req"), mono(silence(8000, 30_000), 8000));
    s.channel.answered.store(false, Ordering::SeqCst);
    let plan = with_found(
        "x",
        &[
            ("set", "media_bug_answer_req=true"),
            ("set", "amd_execute_on_person=transfer person_found XML default"),
            ("voice_start", ""),
            ("sleep", "3000"),
            ("answer", ""),
            ("waitforresult", ""),
        ],
    );
    run_call(&s, &plan, "x");
    check_decided(&s, "person");
    let ms: u64 = s.var("amd_result_ms").unwrap().parse().unwrap();
    // Timed from answer: silent_initial (4500 ms) of silence after answer, not after voice_start.
    assert!((4000..=5000).contains(&ms), "{ms}");
    assert!(s.read_ms.load(Ordering::SeqCst) >= 3000 + 4000);
}

/// What the detector itself decides on `samples` fed in 20 ms frames (then silence).
fn direct_decision(samples: &[i16], rate: u32) -> Option<mod_rust_amd::Decision> {
    let params = mod_rust_amd::Params { debug: true, ..Default::default() };
    let mut d = mod_rust_amd::Detector::new(&params, rate).unwrap();
    let frame = rate as usize / 50;
    let mut padded = samples.to_vec();
    padded.resize(samples.len() + rate as usize * 10, 0);
    for chunk in padded.chunks(frame) {
        let mut padded_chunk = chunk.to_vec();
        padded_chunk.resize(frame, 0);
        d.push(&padded_chunk, &mut |_| {});
        if d.decision().is_some() {
            break;
        }
    }
    d.decision()
}

/// Every WAV fixture through the module: it reports exactly what the detector decides on the
/// same audio, and the clear cases come out as labelled.
#[test]
fn fixtures_through_the_module_match_the_detector() {
    let _h = host();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let labels = std::fs::read_to_string(dir.join("labels.csv")).expect("tests/data/labels.csv");
    let mut checked = 0;
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (file, expected) = (cols[0], cols[2]);
        let (samples, rate, channels) = audio::read_wav(&dir.join(file)).unwrap();
        assert_eq!(channels, 1, "{file}");
        let want = direct_decision(&samples, rate).unwrap_or_else(|| panic!("{file}: the detector never decided"));
        let s = Session::new(&uuid(file.trim_end_matches(".wav")), mono(samples, rate));
        run_call(&s, &with_found("amd_test", AMD_TEST), "amd_test");
        assert_eq!(s.var("amd_status").as_deref(), Some(want.status.as_str()), "{file}");
        assert_eq!(s.var("amd_result").as_deref(), Some(want.cause.as_str()), "{file}");
        assert_eq!(s.var("amd_result_ms"), Some(want.at_ms.to_string()), "{file}");
        check_decided(&s, want.status.as_str());
        if ["human_hello.wav", "machine_beep.wav", "silence.wav", "ulaw_hello.wav"].contains(&file) {
            assert_eq!(want.status.as_str(), expected, "{file}: {}", want.cause);
        }
        checked += 1;
    }
    assert!(checked >= 5);
    assert_eq!(allocated(), 0);
    no_panics();
}

/// The 200-call soak: every call starts detection; a third are hung up at random moments by the
/// far end; all slots come back.
#[test]
fn two_hundred_channels_with_random_hangups() {
    let _h = host();
    let n = 200;
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut sessions = Vec::new();
    let mut threads = Vec::new();
    for i in 0..n {
        let rate = [8000, 16000, 48000][i % 3];
        let sig = match i % 4 {
            0 => machine(rate),
            1 => person(rate),
            2 => silence(rate, 8000),
            _ => audio::speech(rate, &[(100, 3000)], 2000, 6000.0),
        };
        let s = Session::new(&uuid("soak"), mono(sig, rate));
        s.pace_us.store(300 + next() % 400, Ordering::SeqCst);
        let plan = with_found(
            "x",
            &[
                ("set", "amd_execute_on_machine=transfer machine_found XML default"),
                ("set", "amd_execute_on_person=transfer person_found XML default"),
                ("set", "amd_execute_on_unsure=transfer amd_unsure XML default"),
                ("voice_start", ""),
                (if i % 2 == 0 { "waitforresult" } else { "sleep" }, if i % 2 == 0 { "ivr/ivr-one_moment_please.wav" } else { "6000" }),
                ("hangup", ""),
            ],
        );
        let s2 = s.clone();
        threads.push(std::thread::spawn(move || s2.run_dialplan(&plan, "x")));
        sessions.push(s);
    }
    // The far ends: a third hang up at a random moment.
    let victims: Vec<_> = sessions.iter().filter(|_| next() % 3 == 0).cloned().collect();
    let delays: Vec<u64> = victims.iter().map(|_| next() % 300).collect();
    let far_end = std::thread::spawn(move || {
        let t0 = Instant::now();
        let mut order: Vec<usize> = (0..victims.len()).collect();
        order.sort_by_key(|&i| delays[i]);
        for i in order {
            let wait = Duration::from_millis(delays[i]).saturating_sub(t0.elapsed());
            std::thread::sleep(wait);
            victims[i].hangup();
        }
    });
    let mut peak = 0;
    while threads.iter().any(|t| !t.is_finished()) {
        peak = peak.max(allocated());
        std::thread::sleep(Duration::from_millis(5));
    }
    for t in threads {
        t.join().expect("a session thread panicked");
    }
    far_end.join().unwrap();
    assert!(peak > 0, "detections overlapped");
    assert_eq!(allocated(), 0, "every slot back");
    assert_eq!(call_api("amd_info", None, None), "AMD license available => 300\nAMD license allocated => 0\n");
    for s in &sessions {
        assert_eq!(s.bug_count(), 0);
        assert_eq!(s.bug_adds.load(Ordering::SeqCst), 1, "{}", s.uuid);
        assert_eq!(s.bug_closes.load(Ordering::SeqCst), 1, "{}", s.uuid);
        if let Some(st) = s.var("amd_status") {
            let dest = s.transfers.lock().unwrap().clone();
            let want = format!("{}_found XML default", st);
            assert!(st == "unsure" || dest.contains(&want), "{st}: {dest:?}");
        }
    }
    assert_eq!(world().live_events.load(Ordering::SeqCst), 0, "no event leaked");
    assert_eq!(world().locks_held.load(Ordering::SeqCst), 0);
    no_panics();
}

/// Unload with calls still running: the library stays loaded (pinned), so their detection goes
/// on; the next load finds them, and they end at hangup as usual.
#[test]
fn shutdown_leaves_running_detections_to_finish() {
    let _h = host();
    let a = Session::new(&uuid("unload-a"), mono(silence(8000, 100), 8000));
    let b = Session::new(&uuid("unload-b"), mono(silence(8000, 100), 8000));
    a.execute("voice_start", None);
    b.execute("voice_start", None);
    assert_eq!(allocated(), 2);
    reload(TEST_CONFIG);
    assert_eq!(allocated(), 2, "still detecting");
    assert_eq!(a.bug_count() + b.bug_count(), 2);
    assert_eq!(world().locks_held.load(Ordering::SeqCst), 0, "located sessions unlocked");
    a.destroy();
    b.destroy();
    assert_eq!(allocated(), 0);
    assert_eq!(a.bug_closes.load(Ordering::SeqCst), 1);
    assert!(logs_for(&a.uuid).iter().any(|l| l.contains("hangup before a decision")));
}

/// FreeSWITCH never does this, but a NULL from the core must not crash the module.
#[test]
fn null_pointers_are_refused_not_followed() {
    let _h = host();
    let apps = world().apps.lock().unwrap().clone();
    for name in ["voice_start", "voice_stop", "waitforresult"] {
        let f = apps[name].unwrap();
        // SAFETY: the module checks its pointers.
        unsafe { f(std::ptr::null_mut(), std::ptr::null()) };
    }
    let f = world().apis.lock().unwrap()["amd_info"].unwrap();
    // SAFETY: as above.
    let st = unsafe { f(std::ptr::null(), std::ptr::null_mut(), std::ptr::null_mut()) };
    assert_eq!(st, ffi::SWITCH_STATUS_FALSE);
    let logs = world().logs.lock().unwrap();
    assert!(logs.iter().any(|l| l.text.contains("voice_start called without a session")));
    assert!(logs.iter().any(|l| l.text.contains("amd_info called without an output stream")));
    drop(logs);
    // NULL arguments are empty arguments.
    let s = Session::new(&uuid("null-data"), mono(silence(8000, 100), 8000));
    let f = apps["voice_start"].unwrap();
    // SAFETY: a live session and a NULL data pointer, as the core passes for an app without data.
    unsafe { f(s.ptr(), std::ptr::null()) };
    assert_eq!(s.bug_count(), 1);
    s.destroy();
    assert_eq!(allocated(), 0);
}

/// detect_late_machine: "Hello?" is a person, and waitforresult returns then; the recorded
/// message and its beep that follow set the late variables and the message-end ones, fire a
/// `Late Machine` event and run amd_execute_on_late_machine in the session's thread while the
/// dialplan plays a prompt; amd_answered_by keeps what the dialplan acted on.
#[test]
fn a_machine_showing_itself_late_is_reported_and_its_action_runs_during_playback() {
    let _h = host();
    let (audio, beep_start, beep_end) = hello_then_machine(8000);
    let s = Session::new(&uuid("late"), mono(audio, 8000));
    let plan = dialplan(&[(
        "broadcast",
        &[
            ("set", "amd_execute_on_late_machine=log INFO late machine"),
            ("voice_start", "detect_late_machine=true"),
            ("waitforresult", ""),
            ("log", "INFO after waitforresult"),
            ("playback", "ivr/ivr-welcome_to_freeswitch.wav"),
            ("playback", "ivr/ivr-welcome_to_freeswitch.wav"),
            ("playback", "ivr/ivr-welcome_to_freeswitch.wav"),
            ("hangup", ""),
        ],
    )]);
    run_call(&s, &plan, "broadcast");
    assert_eq!(s.var("amd_status").as_deref(), Some("person"), "{:?}", s.var("amd_result"));
    assert_eq!(s.var("amd_answered_by").as_deref(), Some("human"), "not rewritten");
    assert_eq!(s.var("amd_late_status").as_deref(), Some("machine"));
    assert_eq!(s.var("amd_late_result").as_deref(), Some("beep"));
    let BeepHeard { end_ms: late_ms, heard_beep, .. } = beep_heard(&s, beep_start, beep_end);
    assert_eq!(s.var("amd_late_ms").map(|v| v.parse::<u64>().unwrap()), Some(late_ms));
    // waitforresult returned at the decision, before the beep; the action ran after it, during
    // the playback, in the session's thread.
    let ex = s.executed.lock().unwrap().clone();
    let session_thread = s.session_thread.lock().unwrap().unwrap();
    let after_wait = ex.iter().position(|e| e.arg.as_deref() == Some("INFO after waitforresult")).expect("went on");
    let late = ex.iter().position(|e| e.arg.as_deref() == Some("INFO late machine")).expect("the late action ran");
    let playback = ex.iter().position(|e| e.app == "playback").expect("played");
    assert!(after_wait < playback && playback < late, "{ex:?}");
    assert!(ex.iter().all(|e| e.thread == session_thread));
    let evs = events_for(&s.uuid);
    let event = evs.iter().find(|e| e.header("Action") == Some("Late Machine")).expect("a Late Machine event");
    assert_eq!(event.header("AMD-Status"), Some("person"));
    assert_eq!(event.header("AMD-Late-Result"), Some("beep"));
    assert_eq!(event.header("AMD-Late-MS").map(str::to_string), Some(late_ms.to_string()));
    assert_eq!(event.header("AMD-Answered-By-Now"), Some("machine_end_beep"));
    assert_eq!(event.header("AMD-Beep-MS").map(str::to_string), Some(heard_beep.to_string()));
    assert_eq!(result_events(&s.uuid).len(), 1);
    assert_eq!(s.bug_count(), 0);
    assert_eq!(allocated(), 0);
    no_panics();
}

/// Frames read by a separate media thread, as in a bridge: the late action (a transfer) still
/// runs in the session's thread.
#[test]
fn a_late_machine_during_a_bridge_acts_in_the_session_thread() {
    let _h = host();
    let (audio, _, _) = hello_then_machine(8000);
    let s = Session::new(&uuid("late-bridge"), mono(audio, 8000));
    let plan = with_found(
        "x",
        &[
            ("set", "amd_execute_on_late_machine=transfer machine_found XML default"),
            ("voice_start", "detect_late_machine=true"),
            ("sleep", "20000"),
        ],
    );
    let media_id = run_call_read_by_a_media_thread(&s, &plan, "x");
    assert_eq!(s.var("amd_status").as_deref(), Some("person"));
    assert_eq!(s.var("amd_late_result").as_deref(), Some("beep"));
    assert_eq!(transfers(&s), vec![Some("machine_found XML default".to_string())]);
    assert!(s.executed.lock().unwrap().iter().all(|e| e.thread != media_id));
    assert_eq!(allocated(), 0);
    no_panics();
}

/// Nothing after the person: the window ends quietly, the slot is given back, no late variable.
#[test]
fn the_late_machine_window_ends_quietly_and_frees_the_slot() {
    let _h = host();
    let s = Session::new(&uuid("late-quiet"), mono(person(8000), 8000));
    let plan = dialplan(&[("x", &[("voice_start", "detect_late_machine=true,late_machine_window=2000"), ("waitforresult", ""), ("sleep", "4000")])]);
    run_call(&s, &plan, "x");
    assert_eq!(s.var("amd_status").as_deref(), Some("person"));
    assert!(s.var("amd_late_status").is_none());
    assert!(events_for(&s.uuid).iter().all(|e| e.header("Action") != Some("Late Machine")));
    let decided: u64 = s.var("amd_result_ms").unwrap().parse().unwrap();
    assert!(s.read_ms.load(Ordering::SeqCst) >= decided + 2000, "listened through the window");
    assert_eq!(s.bug_count(), 0);
    assert_eq!(allocated(), 0);
    no_panics();
}

/// amd_record saves what the detector heard; `amd analyze` on the file decides as the call did,
/// to the ms. A folder given as amd_record gets <uuid>.wav. 44.1 kHz audio is saved at the rate
/// the detector ran at.
#[test]
fn amd_record_saves_what_the_detector_heard_and_the_analyzer_replays_it() {
    let _h = host();
    let dir = std::env::temp_dir().join(format!("amd-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (rate, as_folder) in [(8000, false), (44100, true)] {
        let s = Session::new(&uuid("record"), mono(machine(rate), rate));
        let target = if as_folder { format!("{}/", dir.display()) } else { dir.join("call.wav").display().to_string() };
        let plan = dialplan(&[("x", &[("set", &format!("amd_record={target}")), ("voice_start", "detect_message_end=true"), ("waitforresult", "")])]);
        run_call(&s, &plan, "x");
        let file = if as_folder { dir.join(format!("{}.wav", s.uuid)) } else { dir.join("call.wav") };
        // The writer finishes on its own thread: the header's sizes are written last.
        let deadline = Instant::now() + Duration::from_secs(5);
        let audio = loop {
            let complete = std::fs::read(&file).ok().filter(|b| b.len() > 44 && u32::from_le_bytes(b[40..44].try_into().unwrap()) as usize == b.len() - 44);
            if let Some(bytes) = complete {
                break mod_rust_amd::analyzer::wav::parse(&bytes).expect("a WAV the analyzer reads");
            }
            assert!(Instant::now() < deadline, "{} not written", file.display());
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(audio.sample_rate, if rate == 44100 { 32000 } else { rate }, "the detector's rate");
        let params = mod_rust_amd::Params { detect_message_end: true, ..mod_rust_amd::Params::default() };
        let replay = mod_rust_amd::analyzer::analyze::analyze(&audio, &params).unwrap();
        let d = replay.decision.expect("decided");
        assert_eq!(Some(d.status.as_str()), s.var("amd_status").as_deref(), "{rate} Hz");
        assert_eq!(Some(d.cause.as_str()), s.var("amd_result").as_deref(), "{rate} Hz");
        assert_eq!(Some(d.at_ms.to_string()), s.var("amd_result_ms"), "{rate} Hz");
        assert_eq!(replay.message_end.map(|m| m.at_ms.to_string()), s.var("amd_message_end_ms"), "{rate} Hz");
        assert_eq!(allocated(), 0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    no_panics();
}
