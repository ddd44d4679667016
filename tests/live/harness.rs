//! The live tests' harness: finds the installed FreeSWITCH, starts one of our own per test
//! (loopback endpoint only, event socket on 127.0.0.1 at a free port, everything in a fresh temp
//! dir, the libmod_rust_amd.so cargo just built), talks to it over the event socket, and reads
//! its log. Shared by tests/live.rs, tests/live_flows.rs and tests/live_sip.rs; with mod_sofia
//! it also sets up SIP profiles on 127.0.0.1 (see [`sip_profiles`]).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mod_rust_amd::module::config::ModuleConfig;
use mod_rust_amd::Params;

use crate::built_module;

pub const PASSWORD: &str = "LiveAmdTest";

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------------
// Finding FreeSWITCH.

pub struct Sdk {
    bin: PathBuf,
    modules: PathBuf,
}

pub fn pkg_config_var(var: &str) -> Option<String> {
    let out = Command::new("pkg-config").arg(format!("--variable={var}")).arg("freeswitch").output().ok()?;
    let v = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !v.is_empty()).then_some(v)
}

pub fn find_sdk() -> Result<Sdk, String> {
    let exists = Command::new("pkg-config").args(["--exists", "freeswitch"]).status();
    if !matches!(exists, Ok(s) if s.success()) {
        return Err("no FreeSWITCH SDK (pkg-config freeswitch)".into());
    }
    let prefix = pkg_config_var("prefix").ok_or("pkg-config freeswitch has no prefix")?;
    let bin = Path::new(&prefix).join("bin/freeswitch");
    if !bin.is_file() {
        return Err(format!("no FreeSWITCH binary at {}", bin.display()));
    }
    let modules = pkg_config_var("modulesdir")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&prefix).join("lib/freeswitch/mod"));
    if !modules.join("mod_loopback.so").is_file() {
        return Err(format!("no mod_loopback.so in {}", modules.display()));
    }
    Ok(Sdk { bin, modules })
}

impl Sdk {
    /// Whether the installed FreeSWITCH has this module (e.g. "mod_sofia").
    pub fn has_module(&self, name: &str) -> bool {
        self.modules.join(format!("{name}.so")).is_file()
    }

    /// The modules a test needs that this FreeSWITCH lacks, after printing why the test is
    /// skipped (or failing it, with AMD_REQUIRE_LIVE set).
    pub fn lacks(&self, test: &str, modules: &[&str]) -> bool {
        let missing: Vec<&str> = modules.iter().copied().filter(|m| !self.has_module(m)).collect();
        if missing.is_empty() {
            return false;
        }
        let why = format!("the installed FreeSWITCH has no {} in {}", missing.join(", "), self.modules.display());
        if std::env::var_os("AMD_REQUIRE_LIVE").is_some() {
            panic!("AMD_REQUIRE_LIVE is set but the live test cannot run: {why} [{test}]");
        }
        let _ = writeln!(std::io::stderr(), "live test skipped: {why} [{test}]");
        true
    }
}

/// The installed FreeSWITCH, or None after printing why the test is skipped. With
/// AMD_REQUIRE_LIVE set (on a machine that has FreeSWITCH), a missing one fails the test
/// instead: a skipped live test would otherwise pass as if it had run.
pub fn sdk(test: &str) -> Option<Sdk> {
    match find_sdk() {
        Ok(s) => Some(s),
        Err(why) if std::env::var_os("AMD_REQUIRE_LIVE").is_some() => {
            panic!("AMD_REQUIRE_LIVE is set but the live test cannot run: {why} [{test}]")
        }
        Err(why) => {
            // Straight to stderr, past the test harness's capture, so it shows in every run.
            let _ = writeln!(std::io::stderr(), "live tests skipped: {why} [{test}]");
            None
        }
    }
}

// Not every test binary that shares this harness uses it (tests/package.rs does not).
#[allow(unused_macros)]
macro_rules! sdk_or_skip {
    ($name:expr) => {
        match sdk($name) {
            Some(s) => s,
            None => return,
        }
    };
}


// ---------------------------------------------------------------------------------------------
// The event socket.

pub struct Esl {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

pub type Headers = HashMap<String, String>;

pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_headers(text: &str, decode: bool) -> Headers {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), if decode { url_decode(v) } else { v.to_string() }))
        .collect()
}

impl Esl {
    pub fn connect(port: u16, timeout: Duration) -> std::io::Result<Esl> {
        let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
        stream.set_read_timeout(Some(timeout))?;
        let mut esl = Esl { reader: BufReader::new(stream.try_clone()?), writer: stream };
        let (h, _) = esl.read_msg()?;
        if h.get("Content-Type").map(String::as_str) != Some("auth/request") {
            return Err(std::io::Error::other(format!("no auth/request from the event socket: {h:?}")));
        }
        let reply = esl.command(&format!("auth {PASSWORD}"))?;
        if !reply.starts_with("+OK") {
            return Err(std::io::Error::other(format!("event socket auth failed: {reply}")));
        }
        Ok(esl)
    }

    /// One message: headers, then Content-Length bytes of body.
    pub fn read_msg(&mut self) -> std::io::Result<(Headers, String)> {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "event socket closed"));
            }
            if line.trim_end().is_empty() {
                if head.is_empty() {
                    continue;
                }
                break;
            }
            head.push_str(&line);
        }
        let h = parse_headers(&head, false);
        let mut body = String::new();
        if let Some(n) = h.get("Content-Length").and_then(|n| n.trim().parse::<usize>().ok()) {
            let mut buf = vec![0; n];
            self.reader.read_exact(&mut buf)?;
            body = String::from_utf8_lossy(&buf).into_owned();
        }
        Ok((h, body))
    }

    /// Sends a command and returns its Reply-Text.
    pub fn command(&mut self, cmd: &str) -> std::io::Result<String> {
        self.writer.write_all(format!("{cmd}\n\n").as_bytes())?;
        loop {
            let (h, _) = self.read_msg()?;
            if h.get("Content-Type").map(String::as_str) == Some("command/reply") {
                return Ok(h.get("Reply-Text").cloned().unwrap_or_default());
            }
        }
    }

    pub fn api(&mut self, cmd: &str) -> std::io::Result<String> {
        self.writer.write_all(format!("api {cmd}\n\n").as_bytes())?;
        loop {
            let (h, body) = self.read_msg()?;
            if h.get("Content-Type").map(String::as_str) == Some("api/response") {
                return Ok(body);
            }
        }
    }
}

/// A channel variable in an event's headers (`variable_<name>`), "" when absent.
pub fn var<'a>(e: &'a Headers, name: &str) -> &'a str {
    e.get(&format!("variable_{name}")).map(String::as_str).unwrap_or("")
}

/// A CHANNEL_HANGUP_COMPLETE's cause.
pub fn cause(e: &Headers) -> &str {
    e.get("Hangup-Cause").map(String::as_str).unwrap_or("")
}

/// A channel variable that holds a time in µs (e.g. answer_uepoch).
pub fn micros(e: &Headers, name: &str) -> u64 {
    var(e, name).parse().unwrap_or_else(|_| panic!("{name} is not a time: {:?}", var(e, name)))
}

/// CUSTOM AMD::EVENT events, collected by a thread on their own event-socket connection.
#[derive(Clone, Default)]
pub struct Events(pub Arc<Mutex<Vec<Headers>>>);

impl Events {
    pub fn for_uuid(&self, uuid: &str) -> Vec<Headers> {
        let all = self.0.lock().unwrap();
        all.iter().filter(|e| e.get("Unique-ID").map(String::as_str) == Some(uuid)).cloned().collect()
    }

    pub fn all(&self) -> Vec<Headers> {
        self.0.lock().unwrap().clone()
    }

    /// The events named `name` (Event-Name) that `keep` accepts.
    pub fn named(&self, name: &str, keep: impl Fn(&Headers) -> bool) -> Vec<Headers> {
        let all = self.0.lock().unwrap();
        all.iter().filter(|e| e.get("Event-Name").map(String::as_str) == Some(name) && keep(e)).cloned().collect()
    }
}

// ---------------------------------------------------------------------------------------------
// A FreeSWITCH of our own.

static INSTANCE: AtomicUsize = AtomicUsize::new(0);

pub struct Options {
    /// The loopback endpoint's codec (its default is L16 at 8 kHz).
    pub loopback_codec: &'static str,
    /// amd.conf.xml params to change from the project's file.
    pub amd_overrides: Vec<(&'static str, &'static str)>,
    /// Modules to load besides the base set (e.g. mod_lua, mod_db).
    pub extra_modules: Vec<&'static str>,
    /// More `<context>`s for the dialplan section.
    pub extra_dialplan: String,
    /// More sections for the document (e.g. a directory).
    pub extra_sections: String,
    /// More `<configuration>`s (e.g. sofia.conf, callcenter.conf).
    pub extra_configuration: String,
    /// The module to load, when not the one cargo just built (e.g. the packaged one).
    pub module: Option<PathBuf>,
    /// Files copied into the scripts dir (`-scripts`), where luarun and the lua app look.
    pub scripts: Vec<PathBuf>,
    /// Dialplan files of bare extensions to include in the default context (besides amd_test.xml).
    pub default_includes: Vec<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            loopback_codec: "L16@8000h",
            amd_overrides: vec![("debug", "true")],
            extra_modules: Vec::new(),
            extra_dialplan: String::new(),
            extra_sections: String::new(),
            extra_configuration: String::new(),
            module: None,
            scripts: Vec::new(),
            default_includes: Vec::new(),
        }
    }
}

pub struct Fs {
    child: Option<Child>,
    pub root: PathBuf,
    port: u16,
    pub name: String,
    /// The amd.conf.xml the module was given.
    pub amd_conf: String,
    /// The loopback endpoint's sample rate.
    pub rate: u32,
    /// One event-socket connection for every API command: mod_event_socket listens with a
    /// backlog of 5, and a burst of new connections can leave one unanswered.
    esl: Mutex<Option<Esl>>,
    pub events: Events,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A sofia.conf with one SIP profile per (name, port, context), each on 127.0.0.1 only: no
/// registration, no authentication, no NAT discovery. Calls go from one to the other as
/// `sofia/<profile>/<user>@127.0.0.1:<port of the other>`; `codecs` is what each offers and
/// accepts (a call may narrow it with absolute_codec_string).
pub fn sip_profiles(profiles: &[(&str, u16, &str)], codecs: &str) -> String {
    let mut xml = String::from("    <configuration name=\"sofia.conf\" description=\"sofia Endpoint\">\n      <global_settings>\n        <param name=\"log-level\" value=\"0\"/>\n      </global_settings>\n      <profiles>\n");
    for (name, port, context) in profiles {
        let params = [
            ("sip-ip", "127.0.0.1".to_string()),
            ("rtp-ip", "127.0.0.1".to_string()),
            ("ext-sip-ip", "127.0.0.1".to_string()),
            ("ext-rtp-ip", "127.0.0.1".to_string()),
            ("sip-port", port.to_string()),
            ("context", context.to_string()),
            ("dialplan", "XML".to_string()),
            ("auth-calls", "false".to_string()),
            ("accept-blind-reg", "false".to_string()),
            ("manage-presence", "false".to_string()),
            ("inbound-codec-prefs", codecs.to_string()),
            ("outbound-codec-prefs", codecs.to_string()),
            ("inbound-codec-negotiation", "greedy".to_string()),
            ("rtp-timer-name", "soft".to_string()),
            ("dtmf-type", "rfc2833".to_string()),
            ("disable-register", "true".to_string()),
        ];
        xml.push_str(&format!("        <profile name=\"{name}\">\n          <settings>\n"));
        for (k, v) in params {
            xml.push_str(&format!("            <param name=\"{k}\" value=\"{v}\"/>\n"));
        }
        xml.push_str("          </settings>\n        </profile>\n");
    }
    xml.push_str("      </profiles>\n    </configuration>\n");
    xml
}

/// Waits until every named sofia profile is RUNNING.
pub fn wait_sip_profiles(fs: &Fs, names: &[&str], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let status = fs.api("sofia status");
        let running = |n: &&str| status.lines().any(|l| l.split_whitespace().next() == Some(n) && l.contains("RUNNING"));
        if names.iter().all(running) {
            return;
        }
        assert!(Instant::now() < deadline, "sofia profiles {names:?} not running after {timeout:?}:\n{status}\n{}", fs.tail(60));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The project's amd.conf.xml with some params' values replaced.
pub fn amd_conf_text(overrides: &[(&str, &str)]) -> String {
    let path = crate_dir().join("conf/autoload_configs/amd.conf.xml");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (k, v) in overrides {
        let start = format!("<param name=\"{k}\" value=\"");
        let at = text.find(&start).unwrap_or_else(|| panic!("amd.conf.xml has no param {k}"));
        let from = at + start.len();
        let to = from + text[from..].find('"').unwrap();
        text.replace_range(from..to, v);
    }
    text
}

/// The detector's params from an amd.conf.xml text, read the way the module reads them.
pub fn params_of(amd_conf: &str) -> Params {
    let (cfg, problems) = ModuleConfig::from_xml(amd_conf);
    assert!(problems.is_empty(), "amd.conf.xml problems: {problems:?}");
    cfg.params
}

/// A short 8 kHz 16-bit mono WAV of a tone (for the prompts the page's dialplan plays).
pub fn write_tone_wav(path: &Path, ms: u32, hz: f32) {
    let n = 8 * ms as usize;
    let mut data = Vec::with_capacity(n * 2);
    for i in 0..n {
        let v = (2000.0 * (2.0 * std::f32::consts::PI * hz * i as f32 / 8000.0).sin()) as i16;
        data.extend_from_slice(&v.to_le_bytes());
    }
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&8000u32.to_le_bytes());
    f.extend_from_slice(&16000u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&16u16.to_le_bytes());
    f.extend_from_slice(b"data");
    f.extend_from_slice(&(data.len() as u32).to_le_bytes());
    f.extend_from_slice(&data);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, f).unwrap();
}

impl Fs {
    pub fn start(sdk: &Sdk, name: &str, opts: Options) -> Fs {
        let n = INSTANCE.fetch_add(1, Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!("mod_rust_amd-live-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["conf", "log", "db", "run", "temp", "mod", "sounds", "rec", "scripts"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        // Modules: FreeSWITCH's own (symlinked) and the mod_rust_amd.so cargo just built (or
        // the one the test names).
        for entry in std::fs::read_dir(&sdk.modules).unwrap() {
            let entry = entry.unwrap();
            let file_name = entry.file_name();
            if file_name.to_string_lossy().starts_with("mod_rust_amd.") {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), root.join("mod").join(&file_name)).unwrap();
        }
        let module = opts.module.clone().unwrap_or_else(built_module::path);
        std::fs::copy(&module, root.join("mod/mod_rust_amd.so")).unwrap_or_else(|e| panic!("{}: {e}", module.display()));
        // Sounds for the page's amd_test dialplan (sound_prefix points here).
        let sounds = root.join("sounds");
        std::fs::copy(crate_dir().join("tests/data/machine_beep.wav"), sounds.join("Answering_Machine.wav")).unwrap();
        write_tone_wav(&sounds.join("ivr/ivr-one_moment_please.wav"), 1500, 440.0);
        write_tone_wav(&sounds.join("ivr/ivr-welcome_to_freeswitch.wav"), 300, 600.0);
        write_tone_wav(&sounds.join("misc/if_you_are_this_person.wav"), 300, 700.0);
        write_tone_wav(&sounds.join("misc/error.wav"), 300, 800.0);

        let port = free_port();
        let amd_conf = amd_conf_text(&opts.amd_overrides);
        let template = std::fs::read_to_string(crate_dir().join("tests/live/freeswitch.xml.in")).unwrap();
        let xml = template
            .replace("@ESL_PORT@", &port.to_string())
            .replace("@ESL_PASSWORD@", PASSWORD)
            .replace("@LOOPBACK_CODEC@", opts.loopback_codec)
            .replace("@SOUND_PREFIX@", &sounds.display().to_string())
            .replace("@AMD_CONF@", &amd_conf)
            .replace("@EXTRA_CONFIGURATION@", &opts.extra_configuration)
            .replace("@AMD_TEST_XML@", &crate_dir().join("dialplan/amd_test.xml").display().to_string())
            .replace(
                "@EXTRA_MODULES@",
                &opts.extra_modules.iter().map(|m| format!("        <load module=\"{m}\"/>")).collect::<Vec<_>>().join("\n"),
            )
            .replace(
                "@DEFAULT_INCLUDES@",
                &opts
                    .default_includes
                    .iter()
                    .map(|f| format!("      <X-PRE-PROCESS cmd=\"include\" data=\"{}\"/>", f.display()))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
            .replace("@EXTRA_DIALPLAN@", &opts.extra_dialplan)
            .replace("@EXTRA_SECTIONS@", &opts.extra_sections);
        for script in &opts.scripts {
            let to = root.join("scripts").join(script.file_name().expect("a script file"));
            std::fs::copy(script, &to).unwrap_or_else(|e| panic!("{}: {e}", script.display()));
        }
        std::fs::write(root.join("conf/freeswitch.xml"), xml).unwrap();

        let out = std::fs::File::create(root.join("stdout.log")).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(&sdk.bin);
        cmd.arg("-nonat").arg("-nc").arg("-nf");
        for (flag, dir) in
            [("-conf", "conf"), ("-log", "log"), ("-db", "db"), ("-run", "run"), ("-temp", "temp"), ("-mod", "mod"), ("-scripts", "scripts")]
        {
            cmd.arg(flag).arg(root.join(dir));
        }
        cmd.arg("-sounds").arg(&sounds);
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", sdk.bin.display()));
        let rate = opts.loopback_codec.trim_start_matches("L16@").trim_end_matches('h').parse().expect("L16@<rate>h");
        let mut fs = Fs { child: Some(child), root, port, name: name.to_string(), amd_conf, rate, events: Events::default(), esl: Mutex::new(None) };
        fs.wait_ready(Duration::from_secs(30));
        fs.listen_events();
        fs
    }

    /// Where the near end records what it hears in a call tagged `tag`.
    pub fn rec_file(&self, tag: &str) -> PathBuf {
        self.root.join("rec").join(format!("{tag}.wav"))
    }

    pub fn log_path(&self) -> PathBuf {
        self.root.join("log/freeswitch.log")
    }

    pub fn log_text(&self) -> String {
        std::fs::read(self.log_path()).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }

    pub fn tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        let out = std::fs::read_to_string(self.root.join("stdout.log")).unwrap_or_default();
        format!(
            "---- {} (last {lines} lines of {}) ----\n{}\n---- stdout/stderr ----\n{}",
            self.name,
            self.log_path().display(),
            all[all.len().saturating_sub(lines)..].join("\n"),
            out.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    pub fn wait_ready(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.exited() {
                panic!("FreeSWITCH exited at startup ({st})\n{}", self.tail(60));
            }
            if let Ok(mut esl) = Esl::connect(self.port, Duration::from_secs(5)) {
                if let Ok(s) = esl.api("status") {
                    if s.contains("is ready") {
                        return;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("FreeSWITCH's event socket on 127.0.0.1:{} not ready after {timeout:?}\n{}", self.port, self.tail(60));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn listen_events(&mut self) {
        let mut esl = Esl::connect(self.port, Duration::from_secs(10)).expect("event socket");
        // Channel hangups too: their causes and variables are the outcome of a call flow.
        let reply = esl.command("event plain CHANNEL_BRIDGE CHANNEL_HANGUP_COMPLETE CUSTOM AMD::EVENT").expect("event subscription");
        assert!(reply.starts_with("+OK"), "event subscription: {reply}");
        let _ = esl.writer.set_read_timeout(None);
        let _ = esl.reader.get_ref().set_read_timeout(None);
        let events = self.events.clone();
        std::thread::spawn(move || {
            while let Ok((h, body)) = esl.read_msg() {
                if h.get("Content-Type").map(String::as_str) == Some("text/event-plain") {
                    events.0.lock().unwrap().push(parse_headers(&body, true));
                }
            }
        });
    }

    /// Runs an API command on the test's event-socket connection (one command at a time).
    pub fn api(&self, cmd: &str) -> String {
        let mut guard = self.esl.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let esl = Esl::connect(self.port, Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("event socket: {e}\n{}", self.tail(40)));
            *guard = Some(esl);
        }
        let reply = guard.as_mut().unwrap().api(cmd);
        reply.unwrap_or_else(|e| {
            *guard = None;
            panic!("api {cmd}: {e}\n{}", self.tail(40))
        })
    }

    /// amd_info's (available, allocated).
    pub fn amd_info(&self) -> (usize, usize) {
        let text = self.api("amd_info");
        let num = |key: &str| -> usize {
            text.lines()
                .find_map(|l| l.split_once(&format!("{key} => ")).map(|(_, n)| n.trim().parse::<usize>()))
                .unwrap_or_else(|| panic!("amd_info has no `{key} => N` line: {text:?}"))
                .unwrap_or_else(|e| panic!("amd_info {key}: {e}: {text:?}"))
        };
        (num("AMD license available"), num("AMD license allocated"))
    }

    pub fn channel_count(&self) -> usize {
        let text = self.api("show channels count");
        text.split_whitespace().find_map(|w| w.parse().ok()).unwrap_or(usize::MAX)
    }

    /// Waits until no channel is left.
    pub fn wait_no_channels(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.channel_count() != 0 {
            assert!(Instant::now() < deadline, "channels still up after {timeout:?}: {}\n{}", self.api("show channels"), self.tail(60));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The message part of every log line at `level` (e.g. "NOTICE") that contains `needle`: the
    /// application's own line, not the dialplan trace echoing its data, nor the NOTICE naming
    /// each application run.
    pub fn logged(&self, level: &str, needle: &str) -> Vec<String> {
        let tag = format!("[{level}] ");
        self.log_text()
            .lines()
            .filter_map(|l| l.split_once(&tag).map(|(_, rest)| rest))
            .filter(|rest| rest.contains(needle) && !rest.contains(" Execute [depth="))
            .map(|rest| rest.split_once(' ').map(|(_, msg)| msg).unwrap_or(rest).to_string())
            .collect()
    }

    /// Waits for a log line at `level` containing `needle`; returns it.
    pub fn wait_logged(&self, level: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.logged(level, needle).into_iter().next() {
                return l;
            }
            assert!(Instant::now() < deadline, "no [{level}] line with `{needle}` within {timeout:?}\n{}", self.tail(80));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `AMDLIVE k=v ...` lines the test dialplan logs, as maps.
    pub fn marks(&self) -> Vec<Headers> {
        self.log_text()
            .lines()
            // The log app's own line (not the dialplan trace that echoes the unexpanded data).
            .filter(|l| l.contains("[CRIT]"))
            .filter_map(|l| l.split_once(" AMDLIVE ").map(|(_, rest)| rest))
            .map(|rest| rest.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect())
            .collect()
    }

    /// Waits for an AMDLIVE line with this tag whose ext satisfies `ext_ok`.
    pub fn wait_mark(&self, tag: &str, ext_ok: impl Fn(&str) -> bool, deadline: Instant) -> Option<Headers> {
        loop {
            let found = self.marks().into_iter().find(|m| {
                m.get("tag").map(String::as_str) == Some(tag) && m.get("ext").map(|e| ext_ok(e)).unwrap_or(false)
            });
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops FreeSWITCH through the event socket and waits for it (killing it after `timeout`).
    pub fn stop(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        let esl = self.esl.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut esl) = esl.or_else(|| Esl::connect(self.port, Duration::from_secs(2)).ok()) {
            let _ = esl.writer.write_all(b"api fsctl shutdown\n\n");
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("[{}] FreeSWITCH (pid {}) did not stop within {timeout:?}: killing it", self.name, child.id());
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Fs {
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        if failing {
            eprintln!("{}", self.tail(80));
        }
        // Always gone at the end of the test, failed or not: exactly the child we started.
        if let Some(mut child) = self.child.take() {
            if failing {
                let _ = child.kill();
                let _ = child.wait();
            } else {
                self.child = Some(child);
                self.stop(Duration::from_secs(15));
            }
        }
        if failing {
            eprintln!("[{}] FreeSWITCH files kept in {}", self.name, self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calls.

/// A fresh call UUID from FreeSWITCH (for origination_uuid).
pub fn uuid(fs: &Fs) -> String {
    let u = fs.api("create_uuid").trim().to_string();
    assert_eq!(u.len(), 36, "create_uuid: {u:?}");
    u
}

/// Waits for `needle` anywhere in the log; false after `timeout`.
pub fn wait_log(fs: &Fs, needle: &str, timeout: Duration) -> bool {
    wait_log_count(fs, needle, 1, timeout) >= 1
}

/// Waits until `needle` is in the log `count` times (FreeSWITCH writes its log from a thread of
/// its own, so a line can lag behind the API reply it follows); returns how many times it is
/// there at the end, at most `timeout` later.
pub fn wait_log_count(fs: &Fs, needle: &str, count: usize, timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = fs.log_text().matches(needle).count();
        if seen >= count || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

