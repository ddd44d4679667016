//! Live tests: mod_rust_amd inside a real FreeSWITCH.
//!
//! Each test starts its own FreeSWITCH (loopback endpoint only, event socket on 127.0.0.1 at a
//! free port, everything in a fresh temp dir) with the libmod_rust_amd.so cargo just built, makes
//! loopback calls whose far end plays a WAV and whose near end runs a mod_com_amd-style
//! dialplan, and checks what the module did: channel variables, the executed amd_execute_on_*
//! action, AMD::EVENT events, amd_info slots. Live results are compared with the offline
//! analyzer (`mod_rust_amd::analyzer::analyze`) on the same file and the same amd.conf.xml.
//!
//! Where no FreeSWITCH is installed (`pkg-config freeswitch` fails or its bin/freeswitch is
//! missing), every test here prints why and passes.

#[path = "shared/built_module.rs"]
mod built_module;
#[macro_use]
#[path = "live/harness.rs"]
mod harness;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::{amd_conf_text, crate_dir, params_of, sdk, uuid, wait_log, wait_log_count, Fs, Headers, Options};
use mod_rust_amd::analyzer::analyze::analyze;
use mod_rust_amd::Params;
use mod_rust_amd::analyzer::wav;
use mod_rust_amd::Decision;

/// The far end stays on the line this long (silence) after its WAV, so the near end always
/// decides before the hangup; the offline analysis appends the same silence.
const FAR_TAIL_MS: u32 = 3000;

// ---------------------------------------------------------------------------------------------
// Calls.

/// Originates `{vars}loopback/<far>/live` with the near end running `<near>` in context live;
/// returns once answered (or panics with the reason).
fn originate(fs: &Fs, uuid: &str, vars: &[(&str, String)], far: &str, near: &str) {
    originate_via(fs, uuid, vars, far, near, None);
}

/// The far end reached over SIP (see `sip_calls`) rather than the loopback endpoint.
#[derive(Clone, Copy)]
struct SipFar {
    /// The far profile's port on 127.0.0.1.
    port: u16,
    /// The one codec the call may use (absolute_codec_string).
    codec: &'static str,
}

/// As originate, over SIP when `sip` is given: the far end's variables travel as X- headers
/// (the far profile's context turns them back into variables).
fn originate_via(fs: &Fs, uuid: &str, vars: &[(&str, String)], far: &str, near: &str, sip: Option<SipFar>) {
    let mut v = vec![format!("origination_uuid={uuid}")];
    v.extend(vars.iter().map(|(k, val)| format!("{k}={val}")));
    let dial = match sip {
        None => format!("loopback/{far}/live"),
        Some(sip) => {
            v.push(format!("absolute_codec_string={}", sip.codec));
            v.extend(vars.iter().map(|(k, val)| format!("sip_h_X-Far-{k}={val}")));
            format!("sofia/{SIP_NEAR}/{far}@127.0.0.1:{}", sip.port)
        }
    };
    let cmd = format!("originate {{{}}}{dial} {near} XML live", v.join(","));
    let reply = fs.api(&cmd);
    assert!(reply.starts_with("+OK"), "{cmd}: {reply}\n{}", fs.tail(40));
}

/// What the offline analyzer decides on `path` followed by FAR_TAIL_MS of silence.
fn offline(path: &Path, params: &Params) -> Decision {
    offline_outcome(path, params).decision.unwrap_or_else(|| panic!("offline: no decision on {}", path.display()))
}

/// The analyzer's whole outcome on `path` followed by FAR_TAIL_MS of silence.
fn offline_outcome(path: &Path, params: &Params) -> mod_rust_amd::analyzer::analyze::Outcome {
    offline_outcome_shifted(path, params, 0)
}

/// As offline_outcome, with the file shifted by `shift_ms`: that much digital silence before it,
/// or (negative) its first ms cut.
fn offline_outcome_shifted(path: &Path, params: &Params, shift_ms: i32) -> mod_rust_amd::analyzer::analyze::Outcome {
    let mut audio = wav::read_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tail = (audio.sample_rate * FAR_TAIL_MS / 1000) as usize;
    audio.samples.extend(std::iter::repeat_n(0, tail));
    let shift = (audio.sample_rate as usize * shift_ms.unsigned_abs() as usize) / 1000;
    if shift_ms >= 0 {
        audio.samples.splice(0..0, std::iter::repeat_n(0, shift));
    } else {
        audio.samples.drain(..shift.min(audio.samples.len()));
    }
    analyze(&audio, params).unwrap()
}

/// The analyzer on the file as the call may have delivered it. The far end's audio reaches the
/// bug at an arbitrary point of the detector's 10 ms blocks, a frame early or late (the first
/// frame may go by before the bug is attached), and where a word's edge falls against the blocks
/// can move a word-count decision by a word (hundreds of ms). Of the shifts from -20 to +9 ms,
/// the decision closest to the live one, timed from the file's start.
fn offline_nearest_shift(path: &Path, params: &Params, status: &str, live_ms: u64) -> Decision {
    (-20..10i32)
        .map(|shift| {
            let outcome = offline_outcome_shifted(path, params, shift);
            let mut d = outcome.decision.unwrap_or_else(|| panic!("offline: no decision on {}", path.display()));
            d.at_ms = (d.at_ms as i64 - i64::from(shift)).max(0) as u64;
            d
        })
        .min_by_key(|d| (d.status.as_str() != status, d.at_ms.abs_diff(live_ms)))
        .expect("thirty shifts")
}

struct Clip {
    tag: String,
    path: PathBuf,
    /// labels.csv's expected_status, when checked.
    label: Option<String>,
}

struct CallResult {
    tag: String,
    ext: String,
    status: String,
    result: String,
    ms: u64,
    /// The offline analyzer on the clip's file (at the shift closest to the live call).
    expected: Decision,
    /// The file's rate differs from the call's: FreeSWITCH resampled it.
    resampled: bool,
    /// The audio went through a codec (SIP): only what the leg received is the reference.
    coded: bool,
    /// The offline analyzer on the near end's recording of what it heard.
    heard: Decision,
    label: Option<String>,
    event: Option<Headers>,
}

/// Plays every clip to a near end running `amd_near`, all at once; returns each call's outcome.
fn run_calls(fs: &Fs, clips: &[Clip]) -> Vec<CallResult> {
    run_calls_via(fs, clips, None)
}

/// As run_calls, the far ends reached over SIP when `sip` is given.
fn run_calls_via(fs: &Fs, clips: &[Clip], sip: Option<SipFar>) -> Vec<CallResult> {
    let params = params_of(&fs.amd_conf);
    let started = Instant::now();
    let uuids: Vec<String> = clips.iter().map(|_| uuid(fs)).collect();
    // One after the other: each originate returns as soon as the far end answers (a few ms),
    // so the calls run side by side.
    for (clip, u) in clips.iter().zip(&uuids) {
        let vars = [
            ("amd_tag", clip.tag.clone()),
            ("rec_file", fs.rec_file(&clip.tag).display().to_string()),
            ("play_file", clip.path.display().to_string()),
            ("far_tail_ms", FAR_TAIL_MS.to_string()),
        ];
        originate_via(fs, u, &vars, "far_play", "amd_near", sip);
    }
    eprintln!("[{}] {} calls up in {:.2} s", fs.name, clips.len(), started.elapsed().as_secs_f32());
    let deadline = started + Duration::from_secs(45);
    let mut marks = Vec::new();
    for (clip, u) in clips.iter().zip(&uuids) {
        let mark = fs
            .wait_mark(&clip.tag, |_| true, deadline)
            .unwrap_or_else(|| panic!("{}: no AMDLIVE line from the near end within 45 s\n{}", clip.tag, fs.tail(80)));
        assert_eq!(mark.get("uuid"), Some(u), "{}: the line comes from the near end", clip.tag);
        marks.push(mark);
    }
    // The recordings are complete once the channels are gone.
    fs.wait_no_channels(Duration::from_secs(30));
    let mut out = Vec::new();
    for ((clip, u), mark) in clips.iter().zip(&uuids).zip(marks) {
        let get = |k: &str| mark.get(k).cloned().unwrap_or_default();
        let expected = offline_nearest_shift(&clip.path, &params, &get("status"), get("ms").parse().unwrap_or(u64::MAX));
        let heard = offline(&fs.rec_file(&clip.tag), &params);
        let resampled = wav::read_file(&clip.path).unwrap().sample_rate != fs.rate;
        let event = fs.events.for_uuid(u).into_iter().find(|e| e.get("Action").map(String::as_str) == Some("Result"));
        out.push(CallResult {
            tag: clip.tag.clone(),
            ext: get("ext"),
            status: get("status"),
            result: get("result"),
            ms: get("ms").parse().unwrap_or(u64::MAX),
            expected,
            resampled,
            coded: sip.is_some(),
            heard,
            label: clip.label.clone(),
            event,
        });
    }
    out
}

/// Every mismatch between the live calls and the offline analyzer (and the labels, if given).
/// The live decision must equal the analyzer's on the near end's recording exactly (time within
/// a frame or two), and on the clip's file too (at the shift nearest the call) unless FreeSWITCH
/// resampled it, in which case only the status must agree, or a codec carried it, in which case
/// the recording alone is the reference (a lossy codec may change a decision; the labels are
/// then not checked either).
fn check_calls(results: &[CallResult]) -> Vec<String> {
    let mut problems = Vec::new();
    for r in results {
        let (file, heard) = (&r.expected, &r.heard);
        let reference = if r.coded { heard } else { file };
        let want_ext = match reference.status.as_str() {
            "machine" => "machine_found",
            "person" => "person_found",
            _ => "amd_unsure",
        };
        eprintln!(
            "{:<34} live {:>7} {:<18} {:>5} ms via {:<13} | heard {:>7} {:<18} {:>5} ms | file {:>7} {:<18} {:>5} ms{} | label {}",
            r.tag,
            r.status,
            r.result,
            r.ms,
            r.ext,
            heard.status.as_str(),
            heard.cause.as_str(),
            heard.at_ms,
            file.status.as_str(),
            file.cause.as_str(),
            file.at_ms,
            if r.resampled { " (resampled)" } else { "" },
            r.label.as_deref().unwrap_or("-")
        );
        if r.status != heard.status.as_str() || r.result != heard.cause.as_str() {
            problems.push(format!("{}: live {}/{} but offline on the recording {}/{}", r.tag, r.status, r.result, heard.status, heard.cause));
        }
        if r.ms.abs_diff(heard.at_ms) > 40 {
            problems.push(format!("{}: decided at {} ms live, {} ms offline on the recording", r.tag, r.ms, heard.at_ms));
        }
        // The far end's audio reaches the bug a frame or so after the file's start: two timers
        // due within that much of each other may then swap (max-count vs max-intro). The
        // recording above is the exact check; against the file the cause may differ only so.
        let cause_differs = r.result != file.cause.as_str() && r.ms.abs_diff(file.at_ms) > 40;
        if r.coded {
            // What the codec delivered is in the recording, checked above.
        } else if r.status != file.status.as_str() || (!r.resampled && cause_differs) {
            problems.push(format!("{}: live {}/{} but offline on the file {}/{}", r.tag, r.status, r.result, file.status, file.cause));
        }
        if !r.resampled && !r.coded && r.ms.abs_diff(file.at_ms) > 200 {
            problems.push(format!("{}: decided at {} ms live, {} ms offline on the file", r.tag, r.ms, file.at_ms));
        }
        if let Some(label) = r.label.as_ref().filter(|_| !r.coded) {
            if &r.status != label {
                problems.push(format!("{}: live status {} but labels.csv says {label}", r.tag, r.status));
            }
        }
        if r.ext != want_ext {
            problems.push(format!("{}: ran extension {} (want {want_ext})", r.tag, r.ext));
        }
        match &r.event {
            None => problems.push(format!("{}: no AMD::EVENT Action=Result for the call", r.tag)),
            Some(e) => {
                let ev = |k: &str| e.get(k).map(String::as_str).unwrap_or("");
                if ev("AMD-Status") != r.status || ev("AMD-Result") != r.result || ev("AMD-Result-MS") != r.ms.to_string() {
                    problems.push(format!(
                        "{}: Result event {:?}/{:?}/{:?} differs from the variables",
                        r.tag,
                        ev("AMD-Status"),
                        ev("AMD-Result"),
                        ev("AMD-Result-MS")
                    ));
                }
                if ev("Event-Subclass") != "AMD::EVENT" || ev("Event-Name") != "CUSTOM" {
                    problems.push(format!("{}: event {:?}/{:?}", r.tag, ev("Event-Name"), ev("Event-Subclass")));
                }
            }
        }
    }
    problems
}

/// labels.csv rows: (file, truth, expected_status, sample_rate).
fn read_labels(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| head.iter().zip(l.split(',')).map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn load() {
    let sdk = sdk_or_skip!("load");
    let mut fs = Fs::start(&sdk, "load", Options::default());
    assert_eq!(fs.api("module_exists mod_rust_amd").trim(), "true");
    let (available, allocated) = fs.amd_info();
    assert_eq!((available, allocated), (1000, 0), "amd_info: {}", fs.api("amd_info"));
    assert_eq!(fs.api("amd_available").trim(), "true");
    let count = fs.api("amd_count");
    assert_eq!(count.trim().parse::<usize>().unwrap_or_else(|e| panic!("amd_count {count:?}: {e}")), 1000);
    let log = fs.log_text();
    assert!(log.contains("mod_rust_amd loaded: 1000 AMD channels"), "no load line in the log\n{}", fs.tail(60));
    // `show application` reads the core's database, which a module's interfaces reach by its
    // MODULE_LOAD event and an SQL queue, both drained on other threads: right after startup
    // the rows may not be there yet (seen once in a full test run).
    let registered = |show: &str, app: &str| show.lines().any(|l| l.starts_with(&format!("{app},")));
    let deadline = Instant::now() + Duration::from_secs(10);
    for app in ["voice_start", "voice_stop", "waitforresult"] {
        let mut show = fs.api("show application");
        while !registered(&show, app) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            show = fs.api("show application");
        }
        assert!(registered(&show, app), "{app} not registered:\n{show}");
    }
    // A clean shutdown unloads the module.
    let st = fs.stop(Duration::from_secs(30)).expect("FreeSWITCH stops on fsctl shutdown");
    assert!(st.success(), "FreeSWITCH exited with {st}\n{}", fs.tail(60));
    let log = fs.log_text();
    assert!(log.contains("mod_rust_amd shut down: 0 running detection(s) carry on"), "{}", fs.tail(40));
    assert!(!log.contains("panicked"), "a panic in the log\n{}", fs.tail(80));
}

/// Every WAV fixture in tests/data/labels.csv through a live call (loopback at 8 kHz: the
/// 16 kHz fixture is resampled by FreeSWITCH's playback).
#[test]
fn calls() {
    let sdk = sdk_or_skip!("calls");
    let fs = Fs::start(&sdk, "calls", Options::default());
    let data = crate_dir().join("tests/data");
    let clips: Vec<Clip> = read_labels(&data.join("labels.csv"))
        .into_iter()
        .map(|row| Clip {
            tag: row["file"].trim_end_matches(".wav").to_string(),
            path: data.join(&row["file"]),
            label: Some(row["expected_status"].clone()),
        })
        .collect();
    assert!(clips.len() >= 10, "labels.csv has {} rows", clips.len());
    let started = Instant::now();
    let results = run_calls(&fs, &clips);
    eprintln!("{} calls in {:.1} s", results.len(), started.elapsed().as_secs_f32());
    let problems = check_calls(&results);
    assert_eq!(fs.amd_info().1, 0, "slots still allocated after every call ended");
    assert!(problems.is_empty(), "{} problem(s):\n{}\n{}", problems.len(), problems.join("\n"), fs.tail(40));
}

/// The development corpus, if there is one next to the crate (CI: ../shared/corpus).
fn corpus_dir() -> Option<PathBuf> {
    [PathBuf::from("/work/shared/corpus"), crate_dir().join("../shared/corpus")]
        .into_iter()
        .find(|d| d.join("labels.csv").is_file())
}

/// ~20 corpus clips spread over the classes, 8 kHz ones through an 8 kHz loopback and 16 kHz
/// ones through a 16 kHz loopback (no resampling): live must equal the offline analyzer on the
/// same file (not the label: the detector is not perfect).
#[test]
fn corpus_calls() {
    let sdk = sdk_or_skip!("corpus_calls");
    let Some(dir) = corpus_dir() else {
        let _ = writeln!(std::io::stderr(), "corpus part of the live tests skipped: no /work/shared/corpus or ../shared/corpus");
        return;
    };
    let rows = read_labels(&dir.join("labels.csv"));
    let mut picked: Vec<&HashMap<String, String>> = Vec::new();
    for (truth, n) in [("human", 6), ("machine", 7), ("fax", 2), ("sit", 2), ("silence", 2)] {
        let class: Vec<_> = rows.iter().filter(|r| r["truth"] == truth).collect();
        picked.extend((0..n).map(|i| class[i * class.len() / n]));
        // At least one wideband clip of the two big classes.
        if n > 5 {
            if let Some(wide) = class.iter().rev().find(|r| r["sample_rate"] == "16000" && !picked.contains(r)) {
                picked.push(wide);
            }
        }
    }
    let clip = |r: &HashMap<String, String>| Clip {
        tag: format!("{}_{}", r["truth"], r["file"].trim_end_matches(".wav")),
        path: dir.join(&r["file"]),
        label: None,
    };
    let narrow: Vec<Clip> = picked.iter().filter(|r| r["sample_rate"] == "8000").map(|r| clip(r)).collect();
    let wide: Vec<Clip> = picked.iter().filter(|r| r["sample_rate"] == "16000").map(|r| clip(r)).collect();
    eprintln!("corpus: {} clips at 8 kHz, {} at 16 kHz", narrow.len(), wide.len());
    assert!(narrow.len() + wide.len() >= 20);
    let started = Instant::now();
    let problems = std::thread::scope(|s| {
        let sdk = &sdk;
        let runs: Vec<_> = [("corpus8k", "L16@8000h", narrow), ("corpus16k", "L16@16000h", wide)]
            .into_iter()
            .filter(|(_, _, clips)| !clips.is_empty())
            .map(|(name, codec, clips)| {
                s.spawn(move || {
                    let fs = Fs::start(sdk, name, Options { loopback_codec: codec, ..Options::default() });
                    let results = run_calls(&fs, &clips);
                    assert!(results.iter().all(|r| !r.resampled), "{name}: a clip was resampled");
                    let problems = check_calls(&results);
                    assert_eq!(fs.amd_info().1, 0, "{name}: slots still allocated after every call ended");
                    if !problems.is_empty() {
                        eprintln!("{}", fs.tail(40));
                    }
                    problems
                })
            })
            .collect();
        runs.into_iter().flat_map(|h| h.join().expect("a corpus run panicked")).collect::<Vec<_>>()
    });
    eprintln!("corpus calls done in {:.1} s", started.elapsed().as_secs_f32());
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

/// The near end's SIP profile; the far end's is SIP_FAR.
const SIP_NEAR: &str = "amd_near";
const SIP_FAR: &str = "amd_far";

/// The far profile's context: the X-Far- headers of the call become the far end's variables,
/// then the far end plays its file as over loopback.
const SIP_FAR_CONTEXT: &str = r#"<context name="sip_far">
      <extension name="sip_far_play">
        <condition field="destination_number" expression="^far_play$">
          <action application="set" data="play_file=${sip_h_X-Far-play_file}"/>
          <action application="set" data="far_tail_ms=${sip_h_X-Far-far_tail_ms}"/>
          <action application="transfer" data="far_play XML live"/>
        </condition>
      </extension>
    </context>"#;

/// The codecs the SIP calls are made with, and the module that brings each (None: the core).
const SIP_CODECS: &[(&str, Option<&str>)] =
    &[("PCMU", None), ("PCMA", None), ("G722", Some("mod_spandsp")), ("GSM", Some("mod_spandsp")), ("OPUS", Some("mod_opus"))];

/// Every fixture of tests/data/labels.csv through a real SIP call with RTP on 127.0.0.1 (two
/// sofia profiles of one FreeSWITCH, no registration), once per codec: PCMU, PCMA, G.722, GSM
/// and Opus where this FreeSWITCH has them. Each call must get its result, and the module must
/// decide exactly as the analyzer does on what that leg received (recorded read-only).
#[test]
fn sip_calls() {
    let sdk = sdk_or_skip!("sip_calls");
    if sdk.lacks("sip_calls", &["mod_sofia"]) {
        return;
    }
    let codecs: Vec<&str> = SIP_CODECS
        .iter()
        .filter(|(codec, module)| {
            let have = module.is_none_or(|m| sdk.has_module(m));
            if !have {
                let _ = writeln!(std::io::stderr(), "sip_calls: no {} here, {codec} not tried", module.unwrap_or(""));
            }
            have
        })
        .map(|(codec, _)| *codec)
        .collect();
    let mut modules = vec!["mod_sofia"];
    modules.extend(SIP_CODECS.iter().filter_map(|(_, m)| *m).filter(|m| sdk.has_module(m)));
    modules.dedup();
    let (near_port, far_port) = (harness::free_port(), harness::free_port());
    let fs = Fs::start(
        &sdk,
        "sip",
        Options {
            extra_modules: modules,
            extra_configuration: harness::sip_profiles(&[(SIP_NEAR, near_port, "live"), (SIP_FAR, far_port, "sip_far")], &codecs.join(",")),
            extra_dialplan: SIP_FAR_CONTEXT.into(),
            ..Options::default()
        },
    );
    harness::wait_sip_profiles(&fs, &[SIP_NEAR, SIP_FAR], Duration::from_secs(20));
    let data = crate_dir().join("tests/data");
    let rows = read_labels(&data.join("labels.csv"));
    let mut problems = Vec::new();
    for codec in &codecs {
        let clips: Vec<Clip> = rows
            .iter()
            .map(|row| Clip {
                tag: format!("sip_{}_{}", codec.to_lowercase(), row["file"].trim_end_matches(".wav")),
                path: data.join(&row["file"]),
                label: Some(row["expected_status"].clone()),
            })
            .collect();
        let started = Instant::now();
        let results = run_calls_via(&fs, &clips, Some(SipFar { port: far_port, codec }));
        eprintln!("{codec}: {} calls in {:.1} s", results.len(), started.elapsed().as_secs_f32());
        // The codec the near end really used.
        for r in &results {
            let hangup = fs.events.named("CHANNEL_HANGUP_COMPLETE", |e| e.get("Unique-ID").is_some_and(|u| fs_uuid_of(&fs, &r.tag).as_deref() == Some(u.as_str())));
            if let Some(h) = hangup.first() {
                let used = h.get("variable_read_codec").map(String::as_str).unwrap_or("");
                if !used.eq_ignore_ascii_case(codec) {
                    problems.push(format!("{}: the call used {used:?}, not {codec}", r.tag));
                }
            }
        }
        problems.extend(check_calls(&results));
    }
    assert_eq!(fs.amd_info().1, 0, "slots still allocated after every call ended");
    assert!(problems.is_empty(), "{} problem(s):\n{}\n{}", problems.len(), problems.join("\n"), fs.tail(40));
}

/// The near end's uuid of the call tagged `tag` (from its AMDLIVE line).
fn fs_uuid_of(fs: &Fs, tag: &str) -> Option<String> {
    fs.marks().into_iter().find(|m| m.get("tag").map(String::as_str) == Some(tag)).and_then(|m| m.get("uuid").cloned())
}

/// The `allocated => N` of the amd_info output a `log CRIT AMDLIVE-INFO <what> ${amd_info()}`
/// action wrote (the output's second line is a line of its own in the log).
fn logged_allocated(fs: &Fs, what: &str) -> Option<usize> {
    let text = fs.log_text();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.contains("[CRIT]") && l.contains(&format!("AMDLIVE-INFO {what} ")))?;
    lines[at..(at + 3).min(lines.len())]
        .iter()
        .find_map(|l| l.split_once("allocated => ").and_then(|(_, n)| n.trim().parse().ok()))
}

/// One call whose AMD leg is the inbound (B) leg running `exten` in context live while the
/// originating leg runs `a_leg_app`; returns the AMD leg's AMDLIVE line once it is logged.
fn b_leg_call(fs: &Fs, tag: &str, exten: &str, a_leg_app: &str) -> Headers {
    // ignore_early_media: the originating leg starts its app at answer, not at the early media
    // that record_session and voice_start (media applications) open before answer.
    let cmd = format!(
        "originate {{ignore_early_media=true,amd_tag={tag},rec_file={}}}loopback/{exten}/live {a_leg_app}",
        fs.rec_file(tag).display()
    );
    let reply = fs.api(&cmd);
    assert!(reply.starts_with("+OK"), "{cmd}: {reply}\n{}", fs.tail(40));
    fs.wait_mark(tag, |_| true, Instant::now() + Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{tag}: no AMDLIVE line within 20 s\n{}", fs.tail(80)))
}

/// media_bug_answer_req=true, voice_start before answer, the far end playing once answered:
/// the detection starts at answer (not at voice_start) and decides as the offline analyzer.
#[test]
fn answer_req_voice_start_before_answer() {
    let sdk = sdk_or_skip!("answer_req_voice_start_before_answer");
    let fs = Fs::start(&sdk, "answer_req", Options::default());
    let file = crate_dir().join("tests/data/machine_beep.wav");
    let mark = b_leg_call(&fs, "answer_req", "amd_answer_req", &format!("&playback({})", file.display()));
    assert_eq!(logged_allocated(&fs, "preanswer"), Some(1), "voice_start before answer takes a slot\n{}", fs.tail(60));
    fs.wait_no_channels(Duration::from_secs(20));
    let params = params_of(&fs.amd_conf);
    let result = CallResult {
        tag: "answer_req".into(),
        ext: mark["ext"].clone(),
        status: mark["status"].clone(),
        result: mark["result"].clone(),
        ms: mark["ms"].parse().unwrap_or(u64::MAX),
        expected: offline(&file, &params),
        resampled: false,
        coded: false,
        heard: offline(&fs.rec_file("answer_req"), &params),
        label: Some("machine".into()),
        event: fs.events.for_uuid(&mark["uuid"]).into_iter().find(|e| e.get("Action").map(String::as_str) == Some("Result")),
    };
    // Within 200 ms of the file's offline decision: the 400 ms before answer are not counted.
    let problems = check_calls(&[result]);
    assert!(problems.is_empty(), "{}\n{}", problems.join("\n"), fs.tail(60));
    assert_eq!(fs.amd_info(), (1000, 0), "amd_info after the call");
}

/// mod_com_amd page's amd_test in the page's order: Answering_Machine.wav displaced into the
/// channel's read audio on answer (uuid_displace ... mr from api_on_answer), voice_start after
/// answer, waitforresult playing a prompt until the decision, then machine_found.
#[test]
fn page_amd_test_displace() {
    let sdk = sdk_or_skip!("page_amd_test_displace");
    let fs = Fs::start(&sdk, "displace", Options::default());
    let mark = b_leg_call(&fs, "displace", "amd_displace", "&park");
    let params = params_of(&fs.amd_conf);
    let want = offline(&fs.root.join("sounds/Answering_Machine.wav"), &params);
    eprintln!("displace: live {mark:?}; offline on the file {}/{} at {} ms", want.status, want.cause, want.at_ms);
    assert_eq!(mark["ext"], "machine_found", "{}", fs.tail(60));
    assert_eq!((mark["status"].as_str(), mark["result"].as_str()), (want.status.as_str(), want.cause.as_str()), "{}", fs.tail(60));
    let ms: u64 = mark["ms"].parse().unwrap();
    assert!(ms.abs_diff(want.at_ms) <= 200, "decided at {ms} ms live, {} ms offline", want.at_ms);
    let events = fs.events.for_uuid(&mark["uuid"]);
    assert!(events.iter().any(|e| e.get("Action").map(String::as_str) == Some("Start Talking")), "no Start Talking event: {events:?}");
    assert!(events.iter().any(|e| e.get("Action").map(String::as_str) == Some("Result")), "no Result event: {events:?}");
    fs.wait_no_channels(Duration::from_secs(20));
    assert_eq!(fs.amd_info(), (1000, 0), "amd_info after the call");
}

/// The project's dialplan/amd_test.xml runs end to end in FreeSWITCH as written (it parses,
/// voice_start before answer with media_bug_answer_req, waitforresult with a prompt, the
/// transfer, the page's CRIT line), and in the page's order (voice_start before the
/// api_on_answer uuid_displace) the module hears the displaced Answering_Machine.wav: its read
/// stream bug runs after the displace's READ_REPLACE bug, so the decision is the file's.
#[test]
fn project_amd_test_dialplan_runs() {
    let sdk = sdk_or_skip!("project_amd_test_dialplan_runs");
    let fs = Fs::start(&sdk, "amd_test", Options::default());
    let reply = fs.api("originate loopback/263/default &park");
    assert!(reply.starts_with("+OK"), "originate: {reply}\n{}", fs.tail(40));
    let deadline = Instant::now() + Duration::from_secs(20);
    let needle = "AMD result is => ";
    let line = loop {
        let log = fs.log_text();
        if let Some(l) = log.lines().find(|l| l.contains("[CRIT]") && l.contains(needle)) {
            break l.to_string();
        }
        assert!(Instant::now() < deadline, "no CRIT `{needle}` line\n{}", fs.tail(80));
        std::thread::sleep(Duration::from_millis(100));
    };
    let (_, rest) = line.split_once(needle).unwrap();
    let (status, result) = rest.split_once(" and AMD Status is => ").expect("the page's log format");
    let event = fs.events.all().into_iter().find(|e| e.get("Action").map(String::as_str) == Some("Result")).expect("a Result event");
    assert_eq!(event.get("AMD-Status").map(String::as_str), Some(status.trim()));
    assert_eq!(event.get("AMD-Result").map(String::as_str), Some(result.trim()));
    let found = match status.trim() {
        "machine" => "machine_found",
        "person" => "person_found",
        _ => "amd_unsure",
    };
    assert!(fs.log_text().contains(&format!("Processing  <0000000000>->{found} in context default")), "no transfer to {found}\n{}", fs.tail(60));
    eprintln!("dialplan/amd_test.xml: {status}/{result}");
    let want = offline(&fs.root.join("sounds/Answering_Machine.wav"), &params_of(&fs.amd_conf));
    assert_eq!((status.trim(), result.trim()), (want.status.as_str(), want.cause.as_str()), "offline on the file\n{}", fs.tail(60));
    assert_eq!(status.trim(), "machine");
    fs.wait_no_channels(Duration::from_secs(20));
    assert_eq!(fs.amd_info(), (1000, 0), "amd_info after the call");
}

/// voice_start then voice_stop 0.5 s later: the slot is freed at voice_stop, no result appears
/// afterwards, and amd_info shows allocated => 0 after the call.
#[test]
fn voice_stop_frees_the_slot() {
    let sdk = sdk_or_skip!("voice_stop_frees_the_slot");
    let fs = Fs::start(&sdk, "voice_stop", Options::default());
    let u = uuid(&fs);
    let clip = crate_dir().join("tests/data/human_business.wav");
    let vars = [
        ("amd_tag", "stop".to_string()),
        ("play_file", clip.display().to_string()),
        ("far_tail_ms", FAR_TAIL_MS.to_string()),
    ];
    originate(&fs, &u, &vars, "far_play", "amd_stop");
    let mark = fs
        .wait_mark("stop", |e| e == "after_stop", Instant::now() + Duration::from_secs(20))
        .unwrap_or_else(|| panic!("no after_stop line\n{}", fs.tail(60)));
    assert_eq!(logged_allocated(&fs, "running"), Some(1), "amd_info while detecting\n{}", fs.tail(60));
    assert_eq!(logged_allocated(&fs, "stopped"), Some(0), "amd_info right after voice_stop\n{}", fs.tail(60));
    // 4 s into a greeting that decides at ~3.5 s: nothing decided after voice_stop.
    assert_eq!((mark["status"].as_str(), mark["result"].as_str()), ("", ""), "a result after voice_stop: {mark:?}");
    assert!(fs.events.for_uuid(&u).iter().all(|e| e.get("Action").map(String::as_str) != Some("Result")), "a Result event after voice_stop");
    assert!(fs.log_text().contains(&format!("[{u}] AMD detection ended by voice_stop before a decision")), "{}", fs.tail(60));
    fs.wait_no_channels(Duration::from_secs(20));
    assert_eq!(fs.amd_info(), (1000, 0), "amd_info after the call");
}

/// The far end hangs up 1 s into a long greeting, before any decision: the detection ends with
/// the call and its slot is free.
#[test]
fn hangup_before_a_decision_frees_the_slot() {
    let sdk = sdk_or_skip!("hangup_before_a_decision_frees_the_slot");
    let fs = Fs::start(&sdk, "hangup", Options::default());
    let u = uuid(&fs);
    let clip = crate_dir().join("tests/data/human_business.wav");
    let vars = [
        ("amd_tag", "hangup".to_string()),
        ("play_file", clip.display().to_string()),
        ("rec_file", fs.rec_file("hangup").display().to_string()),
    ];
    originate(&fs, &u, &vars, "far_hangup_1s", "amd_near");
    let needle = format!("[{u}] AMD detection ended by hangup before a decision");
    assert!(wait_log(&fs, &needle, Duration::from_secs(15)), "no `{needle}`\n{}", fs.tail(60));
    fs.wait_no_channels(Duration::from_secs(20));
    assert_eq!(fs.amd_info(), (1000, 0), "amd_info after the call");
    assert!(fs.marks().iter().all(|m| m.get("tag").map(String::as_str) != Some("hangup")), "the near end went on after the hangup");
    assert!(fs.events.for_uuid(&u).iter().all(|e| e.get("Action").map(String::as_str) != Some("Result")), "a Result event");
}

/// `reload mod_rust_amd` while no call runs: the module comes back, answers amd_info, and
/// detects on the next call.
#[test]
fn reload_while_idle() {
    let sdk = sdk_or_skip!("reload_while_idle");
    let fs = Fs::start(&sdk, "reload", Options::default());
    let reply = fs.api("reload mod_rust_amd");
    assert!(reply.contains("+OK"), "reload: {reply:?}\n{}", fs.tail(40));
    assert!(!reply.contains("-ERR"), "reload: {reply:?}\n{}", fs.tail(40));
    assert_eq!(fs.api("module_exists mod_rust_amd").trim(), "true");
    assert_eq!(fs.amd_info(), (1000, 0));
    assert_eq!(fs.api("amd_available").trim(), "true");
    let loaded = wait_log_count(&fs, "mod_rust_amd loaded: 1000 AMD channels", 2, Duration::from_secs(15));
    assert_eq!(loaded, 2, "loaded twice\n{}", fs.tail(60));
    assert!(wait_log(&fs, "mod_rust_amd shut down: 0 running detection(s) carry on", Duration::from_secs(15)), "{}", fs.tail(60));
    // And it still detects.
    let clip = Clip { tag: "after_reload".into(), path: crate_dir().join("tests/data/human_hello.wav"), label: Some("person".into()) };
    let results = run_calls(&fs, &[clip]);
    let problems = check_calls(&results);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(fs.amd_info(), (1000, 0));
}

/// amd.conf.xml served through FreeSWITCH's configuration binding, as mod_xml_curl serves it
/// to a farm of servers from one place: here a mod_lua XML handler bound to `configuration`
/// answers for amd.conf with max_channels=77 and silent_initial=2000 (the file on disk says
/// 1000 and 4500). After `reload mod_rust_amd` the module runs with the served settings.
#[test]
fn amd_conf_served_through_the_configuration_binding() {
    let sdk = sdk_or_skip!("amd_conf_served_through_the_configuration_binding");
    if sdk.lacks("amd_conf_served_through_the_configuration_binding", &["mod_lua"]) {
        return;
    }
    let script = std::env::temp_dir().join(format!("amd_conf_server_{}.lua", std::process::id()));
    std::fs::write(
        &script,
        r#"-- Serves amd.conf to FreeSWITCH's configuration binding; anything else: not found.
if XML_REQUEST["section"] == "configuration" and XML_REQUEST["key_value"] == "amd.conf" then
  XML_STRING = [[<document type="freeswitch/xml"><section name="configuration">
    <configuration name="amd.conf" description="served">
      <settings>
        <param name="max_channels" value="77"/>
        <param name="silent_initial" value="2000"/>
        <param name="debug" value="true"/>
      </settings>
    </configuration>
  </section></document>]]
else
  XML_STRING = [[<document type="freeswitch/xml"><section name="result"><result status="not found"/></section></document>]]
end
"#,
    )
    .unwrap();
    let lua_conf = format!(
        r#"    <configuration name="lua.conf" description="LUA Configuration">
      <settings>
        <param name="xml-handler-script" value="{}"/>
        <param name="xml-handler-bindings" value="configuration"/>
      </settings>
    </configuration>"#,
        script.file_name().unwrap().to_string_lossy()
    );
    let fs = Fs::start(
        &sdk,
        "served_conf",
        Options { extra_modules: vec!["mod_lua"], extra_configuration: lua_conf, scripts: vec![script.clone()], ..Options::default() },
    );
    let _ = std::fs::remove_file(&script);
    let reply = fs.api("reload mod_rust_amd");
    assert!(reply.contains("+OK") && !reply.contains("-ERR"), "reload: {reply:?}\n{}", fs.tail(40));
    assert!(wait_log(&fs, "mod_rust_amd loaded: 77 AMD channels", Duration::from_secs(15)), "the served max_channels\n{}", fs.tail(60));
    assert_eq!(fs.amd_info(), (77, 0));
    // The served silent_initial decides a silent call.
    let u = uuid(&fs);
    originate(&fs, &u, &[("amd_tag", "served".to_string()), ("rec_file", fs.rec_file("served").display().to_string())], "far_silent", "amd_near");
    let mark = fs.wait_mark("served", |_| true, Instant::now() + Duration::from_secs(30)).unwrap_or_else(|| panic!("no result\n{}", fs.tail(60)));
    assert_eq!((mark["status"].as_str(), mark["result"].as_str()), ("person", "silent-initial"), "{mark:?}");
    let ms: u64 = mark["ms"].parse().unwrap();
    assert!((2000..2100).contains(&ms), "silent-initial at {ms} ms: the served 2000, not the file's 4500");
    fs.wait_no_channels(Duration::from_secs(30));
    assert_eq!(fs.amd_info(), (77, 0));
}

/// A call on the far end's silence through the `amd_sleep` extension (voice_start, then sleep:
/// no waitforresult holding the module), tagged `tag`.
fn silent_call(fs: &Fs, tag: &str) -> String {
    let u = uuid(fs);
    originate(fs, &u, &[("amd_tag", tag.to_string())], "far_silent", "amd_sleep");
    u
}

fn wait_allocated(fs: &Fs, want: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while fs.amd_info().1 != want {
        assert!(Instant::now() < deadline, "amd_info never showed {want} allocated: {}\n{}", fs.api("amd_info"), fs.tail(40));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `reload mod_rust_amd` (with a changed amd.conf.xml) while a call is detecting: the call goes
/// on and decides with the settings it started with (silent_initial 3000 ms); the next call gets
/// the new ones (6000 ms). amd_stats counts both decisions since the reload's load.
#[test]
fn reload_while_detecting_and_amd_stats() {
    let sdk = sdk_or_skip!("reload_while_detecting_and_amd_stats");
    let fs = Fs::start(&sdk, "reload_busy", Options { amd_overrides: vec![("debug", "true"), ("silent_initial", "3000")], ..Default::default() });
    let before = silent_call(&fs, "before_reload");
    wait_allocated(&fs, 1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    let conf_path = fs.root.join("conf/freeswitch.xml");
    let conf = std::fs::read_to_string(&conf_path).unwrap();
    let changed = amd_conf_text(&[("debug", "true"), ("silent_initial", "6000")]);
    assert!(conf.contains(&fs.amd_conf));
    std::fs::write(&conf_path, conf.replace(&fs.amd_conf, &changed)).unwrap();
    assert!(fs.api("reloadxml").contains("+OK"), "reloadxml\n{}", fs.tail(40));
    let reply = fs.api("reload mod_rust_amd");
    assert!(reply.contains("+OK") && !reply.contains("-ERR"), "reload: {reply:?}\n{}", fs.tail(40));
    assert_eq!(fs.amd_info().1, 1, "the call is still detecting after the reload\n{}", fs.tail(40));
    assert!(wait_log(&fs, "mod_rust_amd shut down: 1 running detection(s) carry on", Duration::from_secs(15)), "{}", fs.tail(60));

    let deadline = Instant::now() + Duration::from_secs(20);
    let mark = fs
        .wait_mark("before_reload", |e| e != "none", deadline)
        .unwrap_or_else(|| panic!("the call started before the reload never decided\n{}", fs.tail(80)));
    assert_eq!(mark.get("uuid"), Some(&before));
    assert_eq!((mark["ext"].as_str(), mark["result"].as_str()), ("person_found", "silent-initial"), "{mark:?}");
    let ms: u64 = mark["ms"].parse().unwrap();
    assert!((3000..=3040).contains(&ms), "decided at {ms} ms: not with its own silent_initial of 3000");

    silent_call(&fs, "after_reload");
    let mark = fs
        .wait_mark("after_reload", |e| e != "none", Instant::now() + Duration::from_secs(20))
        .unwrap_or_else(|| panic!("the call started after the reload never decided\n{}", fs.tail(80)));
    let ms: u64 = mark["ms"].parse().unwrap();
    assert!((6000..=6040).contains(&ms), "decided at {ms} ms: not with the new silent_initial of 6000");

    fs.wait_no_channels(Duration::from_secs(30));
    assert_eq!(fs.amd_info(), (1000, 0));
    let text = fs.api("amd_stats");
    assert!(text.contains("AMD decisions => 2\n") && text.contains("AMD status person => 2\n"), "{text}");
    let json: serde_json::Value = serde_json::from_str(fs.api("amd_stats json").trim()).expect("amd_stats json is JSON");
    assert_eq!(json["result"]["silent-initial"], 2, "{json}");
    assert_eq!(json["channels_detecting"], 0, "{json}");
    assert_eq!(json["calls_in_memory"], 0, "{json}");
    let p90 = json["decision_ms"]["p90"].as_u64().unwrap();
    assert!((6000..=6040).contains(&p90), "{json}");
    assert!(!fs.log_text().contains("panicked"), "{}", fs.tail(80));
}

/// A voicemail drop: voice_start detect_message_end=true, waitforresult returns after the beep
/// of tests/data/machine_beep.wav (beep at 5957 ms), amd_execute_on_message_end runs, and the
/// variables agree with the analyzer on what the module heard.
#[test]
fn voicemail_drop_returns_after_the_beep() {
    let sdk = sdk_or_skip!("voicemail_drop_returns_after_the_beep");
    let fs = Fs::start(&sdk, "drop", Options::default());
    let u = uuid(&fs);
    let clip = crate_dir().join("tests/data/machine_beep.wav");
    let vars = [
        ("amd_tag", "drop".to_string()),
        ("play_file", clip.display().to_string()),
        ("far_tail_ms", FAR_TAIL_MS.to_string()),
        ("rec_file", fs.rec_file("drop").display().to_string()),
    ];
    originate(&fs, &u, &vars, "far_play", "amd_drop");
    let mark = fs
        .wait_mark("drop", |e| e == "drop", Instant::now() + Duration::from_secs(25))
        .unwrap_or_else(|| panic!("no AMDLIVE drop line\n{}", fs.tail(80)));
    eprintln!("voicemail drop: {mark:?}");
    assert_eq!((mark["status"].as_str(), mark["end"].as_str(), mark["by"].as_str()), ("machine", "beep", "machine_end_beep"), "{}", fs.tail(60));
    let end_ms: u64 = mark["end_ms"].parse().unwrap();
    let beep_ms: u64 = mark["beep_ms"].parse().unwrap();
    let beep_end_ms: u64 = mark["beep_end_ms"].parse().unwrap();
    assert!(beep_ms < end_ms && end_ms <= beep_ms + 150 && end_ms < beep_end_ms, "{mark:?}");
    fs.wait_no_channels(Duration::from_secs(20));
    let heard = offline_outcome(&fs.rec_file("drop"), &Params { detect_message_end: true, ..params_of(&fs.amd_conf) });
    let want = heard.message_end.expect("the analyzer finds the message end in the recording");
    assert!(end_ms.abs_diff(want.at_ms) <= 60, "live {end_ms} ms, offline on the recording {} ms", want.at_ms);
    assert!(fs.log_text().lines().any(|l| l.contains("[CRIT]") && l.contains("AMDLIVE-ON-END tag=drop")), "amd_execute_on_message_end did not run\n{}", fs.tail(60));
    let events = fs.events.for_uuid(&u);
    let end = events.iter().find(|e| e.get("Action").map(String::as_str) == Some("Message End")).expect("a Message End event");
    assert_eq!(end.get("AMD-Message-End").map(String::as_str), Some("beep"));
    assert_eq!(fs.amd_info(), (1000, 0), "amd_info after the call");
}

/// A dialer over the event socket: uuid_voice_start on a live call (bad uuid and bad data
/// refused with -ERR), the Result and Message End events carry the channel's UUID.
#[test]
fn uuid_voice_start_over_the_event_socket() {
    let sdk = sdk_or_skip!("uuid_voice_start_over_the_event_socket");
    let fs = Fs::start(&sdk, "uuid_api", Options::default());
    assert!(fs.api("uuid_voice_start 00000000-0000-0000-0000-000000000000").starts_with("-ERR no such channel"));
    assert!(fs.api("uuid_voice_stop").starts_with("-ERR usage"));
    let u = uuid(&fs);
    let clip = crate_dir().join("tests/data/machine_beep.wav");
    // The far end answers and plays the greeting; the near end only waits (no dialplan AMD).
    let vars = [("play_file", clip.display().to_string()), ("far_tail_ms", FAR_TAIL_MS.to_string())];
    originate(&fs, &u, &vars, "far_play", "near_wait");
    let bad = fs.api(&format!("uuid_voice_start {u} silent_initial=soon"));
    assert!(bad.starts_with("-ERR") && bad.contains("silent_initial"), "{bad}");
    assert_eq!(fs.amd_info(), (1000, 0));
    let ok = fs.api(&format!("uuid_voice_start {u} detect_message_end=true"));
    assert!(ok.starts_with("+OK"), "{ok}\n{}", fs.tail(40));
    assert!(fs.api(&format!("uuid_voice_start {u}")).starts_with("-ERR AMD already running"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let end = loop {
        let events = fs.events.for_uuid(&u);
        if let Some(e) = events.into_iter().find(|e| e.get("Action").map(String::as_str) == Some("Message End")) {
            break e;
        }
        assert!(Instant::now() < deadline, "no Message End event for {u}\n{}", fs.tail(60));
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(end.get("Unique-ID").map(String::as_str), Some(u.as_str()));
    assert_eq!(end.get("AMD-Status").map(String::as_str), Some("machine"));
    assert_eq!(end.get("AMD-Message-End").map(String::as_str), Some("beep"));
    let result = fs.events.for_uuid(&u).into_iter().find(|e| e.get("Action").map(String::as_str) == Some("Result")).expect("a Result event");
    assert!(result.get("AMD-Result-MS").is_some_and(|v| v.parse::<u64>().is_ok()), "{result:?}");
    // The slot is given back once the beep has stopped too.
    let deadline = Instant::now() + Duration::from_secs(3);
    while fs.amd_info() != (1000, 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(fs.amd_info(), (1000, 0), "slot free once the greeting ended");
    assert!(fs.api(&format!("uuid_voice_stop {u}")).starts_with("-ERR no AMD running"));
    fs.wait_no_channels(Duration::from_secs(20));
}


/// A near end with detect_late_machine: the dialplan acts on `person` (a prompt plays, as an
/// agentless broadcast would), and the late beep's action runs in the session's thread during
/// that playback.
const LATE_CONTEXT: &str = r#"<context name="late">
      <extension name="amd_late">
        <condition field="destination_number" expression="^amd_late$">
          <action application="set" data="amd_execute_on_late_machine=execute_extension amd_late_found XML late"/>
          <action application="answer"/>
          <action application="set" data="RECORD_READ_ONLY=true"/>
          <action application="record_session" data="${rec_file}"/>
          <action application="voice_start" data="detect_late_machine=true"/>
          <action application="waitforresult"/>
          <action application="log" data="CRIT AMDLIVE ext=late tag=${amd_tag} uuid=${uuid} status=${amd_status} result=${amd_result} ms=${amd_result_ms}"/>
          <action application="playback" data="tone_stream://%(8000,0,350)"/>
          <action application="hangup"/>
        </condition>
      </extension>
      <!-- The late action: an extension, so its variables are read when it runs. -->
      <extension name="amd_late_found">
        <condition field="destination_number" expression="^amd_late_found$">
          <action application="log" data="CRIT AMDLIVE-LATE tag=${amd_tag} uuid=${uuid} late=${amd_late_status} by=${amd_late_result} late_ms=${amd_late_ms} end=${amd_message_end} beep_ms=${amd_beep_ms} answered_by=${amd_answered_by}"/>
        </condition>
      </extension>
    </context>"#;

/// Issue 29 in a real FreeSWITCH: "Hello?", a pause, a greeting and a beep (a fixture of
/// tools/make_fixtures.py) is a person first, waitforresult returns then and the dialplan goes
/// on; the beep then gives amd_late_* and the message-end variables, a `Late Machine` event, and
/// amd_execute_on_late_machine runs while the prompt plays. Times as the analyzer's on what the
/// leg heard.
#[test]
fn late_machine_after_a_person_decision() {
    let sdk = sdk_or_skip!("late_machine_after_a_person_decision");
    let fs = Fs::start(&sdk, "late", Options { extra_dialplan: LATE_CONTEXT.into(), ..Options::default() });
    let file = crate_dir().join("tests/data/late/hello_pause_beep.wav");
    let u = uuid(&fs);
    let vars = [
        ("amd_tag", "late".to_string()),
        ("rec_file", fs.rec_file("late").display().to_string()),
        ("play_file", file.display().to_string()),
        ("far_tail_ms", FAR_TAIL_MS.to_string()),
    ];
    let cmd = format!(
        "originate {{origination_uuid={u},{}}}loopback/far_play/live amd_late XML late",
        vars.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
    );
    let reply = fs.api(&cmd);
    assert!(reply.starts_with("+OK"), "{cmd}: {reply}\n{}", fs.tail(40));
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = fs.wait_mark("late", |e| e == "late", deadline).unwrap_or_else(|| panic!("no decision line\n{}", fs.tail(60)));
    assert_eq!((first["status"].as_str(), first["result"].as_str()), ("person", "silent-after-intro"), "{first:?}");
    fs.wait_no_channels(Duration::from_secs(30));

    let late_line = fs
        .log_text()
        .lines()
        .filter(|l| l.contains("[CRIT]"))
        .find_map(|l| l.split_once(" AMDLIVE-LATE ").map(|(_, rest)| rest.to_string()))
        .unwrap_or_else(|| panic!("amd_execute_on_late_machine did not run\n{}", fs.tail(80)));
    let late: Headers = late_line.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!((late["late"].as_str(), late["by"].as_str(), late["end"].as_str()), ("machine", "beep", "beep"), "{late:?}");
    assert_eq!(late["answered_by"], "human", "amd_answered_by keeps what the dialplan acted on: {late:?}");

    // The times against the analyzer on what the leg heard.
    let mut params = params_of(&fs.amd_conf);
    params.set("detect_late_machine", "true").unwrap();
    let heard = offline_outcome(&fs.rec_file("late"), &params);
    let decision = heard.decision.expect("a decision offline");
    assert_eq!(decision.status.as_str(), "person");
    assert!(first["ms"].parse::<u64>().unwrap().abs_diff(decision.at_ms) <= 40, "{first:?} / {decision:?}");
    let offline_late = heard.late.expect("a late machine offline");
    let live_late_ms: u64 = late["late_ms"].parse().unwrap();
    assert!(live_late_ms.abs_diff(offline_late.at_ms) <= 40, "late at {live_late_ms} ms live, {} ms offline", offline_late.at_ms);
    let live_beep_ms: u64 = late["beep_ms"].parse().unwrap();
    let offline_beep_ms = offline_late.beep.expect("the beep").start_ms;
    assert!(live_beep_ms.abs_diff(offline_beep_ms) <= 40, "beep at {live_beep_ms} ms live, {offline_beep_ms} ms offline");
    // The fixture's beep starts 4787 ms into the file; the leg hears it within a frame or two of
    // that (where the far end's frames fall against the near end's), found within 150 ms.
    assert!((4787 - 40..4787 + 150).contains(&live_beep_ms), "beep_ms {live_beep_ms}");

    let events = fs.events.for_uuid(&u);
    let action = |a: &str| events.iter().find(|e| e.get("Action").map(String::as_str) == Some(a)).cloned();
    let result = action("Result").unwrap_or_else(|| panic!("no Result event: {events:?}"));
    assert_eq!(result.get("AMD-Status").map(String::as_str), Some("person"));
    let late_event = action("Late Machine").unwrap_or_else(|| panic!("no Late Machine event: {events:?}"));
    assert_eq!(late_event.get("AMD-Late-Result").map(String::as_str), Some("beep"));
    assert_eq!(late_event.get("AMD-Late-MS").map(String::as_str), Some(late["late_ms"].as_str()));
    assert_eq!(fs.amd_info(), (1000, 0), "the slot is freed once the late window is over");
    assert!(!fs.log_text().contains("panicked"), "{}", fs.tail(60));
}
