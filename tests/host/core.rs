//! A stand-in for the FreeSWITCH core: exactly the functions mod_rust_amd resolves, over
//! simulated sessions. The test executable exports them (build.rs: --dynamic-list
//! tests/host/exports.list) so the module, loaded with dlopen, finds them as it would find the
//! real core's.
//!
//! What is simulated, after the real core's behaviour:
//! - a session reads its audio in whichever thread reads (its own thread during sleep and
//!   playback, or a separate media thread); a READ_STREAM media bug gets every decoded frame
//!   added to its buffer and a READ callback, in which switch_core_media_bug_read hands back one
//!   packet (the size of the frames fed) while a whole one is buffered; not before answer when `media_bug_answer_req` was set; a bug whose callback returns false is
//!   pruned (CLOSE) after the frame; hangup removes every bug (CLOSE).
//! - sleep and playback loop frame by frame: they stop on hangup, on transfer and on CF_BREAK
//!   (which they clear), and run the session's private event queue each time round.
//! - execute_application_async queues an application on that queue.
// Bugs are boxed so that the pointer handed to the module stays put while the list changes.
#![allow(clippy::missing_safety_doc, clippy::vec_box, clippy::boxed_local, clippy::field_reassign_with_default)]

use std::collections::{HashMap, VecDeque};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::thread::ThreadId;
use std::time::Duration;

use mod_rust_amd::ffi;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// The world: logs, events, config, sessions.

#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct LogLine {
    pub level: i32,
    pub uuid: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct FiredEvent {
    pub subclass: String,
    pub headers: Vec<(String, String)>,
}

impl FiredEvent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub struct World {
    pub logs: Mutex<Vec<LogLine>>,
    pub events: Mutex<Vec<FiredEvent>>,
    pub config_xml: Mutex<Option<String>>,
    pub sessions: Mutex<HashMap<String, Arc<Session>>>,
    pub reserved: Mutex<Vec<String>>,
    pub apps: Mutex<HashMap<String, ffi::switch_application_function_t>>,
    pub apis: Mutex<HashMap<String, ffi::switch_api_function_t>>,
    /// Live module-made objects: events not yet fired or destroyed, xml roots not yet freed.
    pub live_events: AtomicUsize,
    /// Interfaces the module asked for (application and API structs it fills in).
    pub app_ifaces: Mutex<Vec<usize>>,
    pub api_ifaces: Mutex<Vec<usize>>,
    /// Module interfaces made at load (the real core keeps them in the module's pool).
    pub module_recs: Mutex<Vec<usize>>,
    pub live_xml: AtomicUsize,
    pub locks_held: AtomicUsize,
}

pub fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(World::default)
}

// ---------------------------------------------------------------------------------------------
// Audio sources.

/// What a session's far end sends: `samples` (interleaved when `channels` > 1) at `rate`, then
/// silence for ever.
pub struct Audio {
    pub samples: Vec<i16>,
    pub rate: u32,
    pub channels: u32,
}

// ---------------------------------------------------------------------------------------------
// Sessions.

pub struct Bug {
    session: *const Session,
    callback: ffi::switch_media_bug_callback_t,
    user_data: *mut c_void,
    flags: u32,
    stream: Mutex<BugStream>,
    prune: AtomicBool,
}

/// The read audio buffered for a bug, as the core keeps it for a READ_STREAM bug.
#[derive(Default)]
struct BugStream {
    bytes: VecDeque<u8>,
    /// Bytes per packet: the size of the last frame fed.
    packet: usize,
    rate: u32,
    channels: u32,
}

/// The channel lives inside its session; the module's channel pointer points here.
pub struct Channel {
    pub vars: Mutex<HashMap<String, String>>,
    /// Copies handed out by get_variable_dup (the real core puts them in the session's pool).
    pool: Mutex<Vec<CString>>,
    pub answered: AtomicBool,
    pub hungup: AtomicBool,
    pub transfer: AtomicBool,
    pub brk: AtomicBool,
    session: OnceLock<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    pub app: String,
    pub arg: Option<String>,
    pub thread: ThreadId,
}

pub struct Session {
    pub uuid: String,
    uuid_c: CString,
    pub channel: Channel,
    bugs: RwLock<Vec<Box<Bug>>>,
    queue: Mutex<VecDeque<(String, Option<String>)>>,
    pub executed: Mutex<Vec<Executed>>,
    pub played: Mutex<Vec<String>>,
    audio: Mutex<(Audio, usize)>,
    /// Milliseconds of audio read so far.
    pub read_ms: AtomicU64,
    read_cv: Condvar,
    read_cv_m: Mutex<()>,
    pub rate: AtomicU32,
    pub channels: AtomicU32,
    /// Audio per frame read, in ms (20 unless a test asks for the longer packets some
    /// endpoints send).
    pub packet_ms: AtomicU32,
    /// Pause after each frame read (0: as fast as possible).
    pub pace_us: AtomicU64,
    /// Frames are read by a separate media thread, not by sleep/playback.
    pub media_thread: AtomicBool,
    pub session_thread: Mutex<Option<ThreadId>>,
    pub bug_adds: AtomicUsize,
    pub bug_closes: AtomicUsize,
    pub transfers: Mutex<Vec<String>>,
}

// SAFETY: the raw pointers inside are to this session and to the module's handler, which the
// module makes thread-safe; all mutable state is behind locks or atomics.
unsafe impl Send for Session {}
unsafe impl Sync for Session {}

impl Session {
    pub fn new(uuid: &str, audio: Audio) -> Arc<Session> {
        let s = Arc::new(Session {
            uuid: uuid.to_string(),
            uuid_c: CString::new(uuid).unwrap(),
            channel: Channel {
                vars: Mutex::new(HashMap::new()),
                pool: Mutex::new(Vec::new()),
                answered: AtomicBool::new(true),
                hungup: AtomicBool::new(false),
                transfer: AtomicBool::new(false),
                brk: AtomicBool::new(false),
                session: OnceLock::new(),
            },
            bugs: RwLock::new(Vec::new()),
            queue: Mutex::new(VecDeque::new()),
            executed: Mutex::new(Vec::new()),
            played: Mutex::new(Vec::new()),
            rate: AtomicU32::new(audio.rate),
            channels: AtomicU32::new(audio.channels),
            packet_ms: AtomicU32::new(20),
            audio: Mutex::new((audio, 0)),
            read_ms: AtomicU64::new(0),
            read_cv: Condvar::new(),
            read_cv_m: Mutex::new(()),
            pace_us: AtomicU64::new(0),
            media_thread: AtomicBool::new(false),
            session_thread: Mutex::new(None),
            bug_adds: AtomicUsize::new(0),
            bug_closes: AtomicUsize::new(0),
            transfers: Mutex::new(Vec::new()),
        });
        let _ = s.channel.session.set(Arc::as_ptr(&s) as usize);
        lock(&world().sessions).insert(uuid.to_string(), s.clone());
        s
    }

    pub fn ptr(&self) -> *mut ffi::switch_core_session_t {
        self as *const Session as *mut ffi::switch_core_session_t
    }

    pub fn var(&self, name: &str) -> Option<String> {
        lock(&self.channel.vars).get(name).cloned()
    }

    pub fn set_var(&self, name: &str, value: &str) {
        lock(&self.channel.vars).insert(name.to_string(), value.to_string());
    }

    pub fn ready(&self) -> bool {
        !self.channel.hungup.load(Ordering::SeqCst) && !self.channel.transfer.load(Ordering::SeqCst)
    }

    pub fn bug_count(&self) -> usize {
        self.bugs.read().unwrap().len()
    }

    /// The far end hangs up (any thread). The session's own thread tears down (see `destroy`).
    pub fn hangup(&self) {
        self.channel.hungup.store(true, Ordering::SeqCst);
    }

    /// Hangup processing, as the core does it in the session's thread: every media bug is
    /// removed (CLOSE), then the session goes away.
    pub fn destroy(&self) {
        self.hangup();
        let bugs: Vec<Box<Bug>> = std::mem::take(&mut *self.bugs.write().unwrap());
        for b in bugs {
            self.close_bug(b);
        }
        lock(&world().sessions).remove(&self.uuid);
    }

    fn close_bug(&self, b: Box<Bug>) {
        if let Some(cb) = b.callback {
            let bp = &*b as *const Bug as *mut ffi::switch_media_bug_t;
            // SAFETY: the module's callback with its own user data.
            unsafe { cb(bp, b.user_data, ffi::SWITCH_ABC_TYPE_CLOSE) };
        }
        self.bug_closes.fetch_add(1, Ordering::SeqCst);
    }

    /// Reads one frame (`packet_ms` of audio) from the far end and runs the media bugs on it.
    pub fn read_frame(&self) {
        let rate = self.rate.load(Ordering::SeqCst);
        let channels = self.channels.load(Ordering::SeqCst).max(1);
        let packet_ms = self.packet_ms.load(Ordering::SeqCst);
        let n = (rate * packet_ms / 1000) as usize * channels as usize;
        let data: Vec<i16> = {
            let mut a = lock(&self.audio);
            let (audio, pos) = &mut *a;
            let mut v = vec![0i16; n];
            if *pos < audio.samples.len() {
                let end = (*pos + n).min(audio.samples.len());
                v[..end - *pos].copy_from_slice(&audio.samples[*pos..end]);
            }
            *pos += n;
            v
        };
        if !self.channel.hungup.load(Ordering::SeqCst) {
            let answered = self.channel.answered.load(Ordering::SeqCst);
            let mut prune = false;
            {
                let bugs = self.bugs.read().unwrap();
                for b in bugs.iter() {
                    if !answered && b.flags & ffi::SMBF_ANSWER_REQ != 0 {
                        continue;
                    }
                    {
                        let mut st = lock(&b.stream);
                        st.bytes.extend(data.iter().flat_map(|v| v.to_ne_bytes()));
                        st.packet = data.len() * 2;
                        st.rate = rate;
                        st.channels = channels;
                    }
                    let bp = &**b as *const Bug as *mut ffi::switch_media_bug_t;
                    let ok = match b.callback {
                        // SAFETY: the module's callback with its own user data; the bug is live.
                        Some(cb) => unsafe { cb(bp, b.user_data, ffi::SWITCH_ABC_TYPE_READ) },
                        None => ffi::SWITCH_TRUE,
                    };
                    if ok == ffi::SWITCH_FALSE {
                        b.prune.store(true, Ordering::SeqCst);
                        prune = true;
                    }
                }
            }
            if prune {
                let pruned: Vec<Box<Bug>> = {
                    let mut bugs = self.bugs.write().unwrap();
                    let (p, keep): (Vec<_>, Vec<_>) = bugs.drain(..).partition(|b| b.prune.load(Ordering::SeqCst));
                    *bugs = keep;
                    p
                };
                for b in pruned {
                    self.close_bug(b);
                }
            }
        }
        self.read_ms.fetch_add(u64::from(packet_ms), Ordering::SeqCst);
        self.read_cv.notify_all();
        let pace = self.pace_us.load(Ordering::Relaxed);
        if pace > 0 {
            std::thread::sleep(Duration::from_micros(pace));
        }
    }

    /// Runs the private event queue, in the calling (session) thread.
    pub fn parse_all_events(&self) {
        loop {
            let next = lock(&self.queue).pop_front();
            let Some((app, arg)) = next else { break };
            self.execute(&app, arg.as_deref());
        }
    }

    /// Runs one application in the calling thread: the module's, or one of the few the host
    /// knows (set, answer, hangup, transfer, sleep, playback, log).
    pub fn execute(&self, app: &str, arg: Option<&str>) {
        lock(&self.executed).push(Executed {
            app: app.to_string(),
            arg: arg.map(str::to_string),
            thread: std::thread::current().id(),
        });
        let a = arg.unwrap_or("");
        match app {
            "set" => {
                if let Some((k, v)) = a.split_once('=') {
                    self.set_var(k, v);
                }
            }
            "answer" => self.channel.answered.store(true, Ordering::SeqCst),
            "hangup" => self.hangup(),
            "transfer" => {
                lock(&self.transfers).push(a.to_string());
                self.channel.transfer.store(true, Ordering::SeqCst);
            }
            "sleep" => {
                self.sleep(a.trim().parse().unwrap_or(0));
            }
            "playback" => {
                self.play(a);
            }
            "log" => {}
            other => {
                let f = lock(&world().apps).get(other).copied().flatten();
                match f {
                    Some(f) => {
                        let c = CString::new(a).unwrap();
                        // SAFETY: the module's application with a live session and its data.
                        unsafe { f(self.ptr(), c.as_ptr()) }
                    }
                    None => panic!("the test host has no application {other:?}"),
                }
            }
        }
    }

    /// One 20 ms step of a blocking operation: `Err(status)` when it must stop.
    fn step(&self) -> Result<(), c_uint> {
        if !self.ready() {
            return Err(ffi::SWITCH_STATUS_FALSE);
        }
        if self.channel.brk.swap(false, Ordering::SeqCst) {
            return Err(ffi::SWITCH_STATUS_BREAK);
        }
        self.parse_all_events();
        if !self.ready() {
            return Err(ffi::SWITCH_STATUS_FALSE);
        }
        if self.media_thread.load(Ordering::SeqCst) {
            // Someone else reads: wait for the next 20 ms of audio to go by.
            let target = self.read_ms.load(Ordering::SeqCst) + 20;
            let mut g = lock(&self.read_cv_m);
            while self.read_ms.load(Ordering::SeqCst) < target && self.ready() {
                g = self.read_cv.wait_timeout(g, Duration::from_millis(5)).unwrap().0;
            }
        } else {
            self.read_frame();
        }
        Ok(())
    }

    pub fn sleep(&self, ms: u32) -> c_uint {
        let mut left = ms as i64;
        while left > 0 {
            if let Err(st) = self.step() {
                return st;
            }
            left -= 20;
        }
        ffi::SWITCH_STATUS_SUCCESS
    }

    /// Files the host can play, and how long they last.
    pub fn sound_ms(file: &str) -> Option<u32> {
        match file {
            "ivr/ivr-one_moment_please.wav" => Some(1200),
            // A WAV header with no audio: the core returns at once, having read no frame.
            "empty.wav" => Some(0),
            "ivr/ivr-welcome_to_freeswitch.wav" | "misc/if_you_are_this_person.wav" | "misc/error.wav" => Some(2000),
            f if f.starts_with("tone_stream://") || f.starts_with("silence_stream://") => Some(1000),
            _ => None,
        }
    }

    pub fn play(&self, file: &str) -> c_uint {
        let Some(ms) = Self::sound_ms(file) else {
            return ffi::SWITCH_STATUS_NOTFOUND;
        };
        lock(&self.played).push(file.to_string());
        self.sleep(ms)
    }

    /// Runs a dialplan: each extension is a list of (app, arg); a transfer to `name XML ctx`
    /// continues at extension `name`. Then the call is torn down as at hangup.
    pub fn run_dialplan(self: &Arc<Self>, extensions: &HashMap<String, Vec<(String, String)>>, start: &str) {
        *lock(&self.session_thread) = Some(std::thread::current().id());
        let mut ext = Some(start.to_string());
        let mut hops = 0;
        while let Some(name) = ext.take() {
            hops += 1;
            if hops > 10 {
                break;
            }
            let Some(actions) = extensions.get(&name) else { break };
            for (app, arg) in actions {
                if !self.ready() {
                    break;
                }
                self.execute(app, Some(arg.as_str()).filter(|a| !a.is_empty()));
                // Between applications the core runs the private queue too.
                if self.ready() {
                    self.parse_all_events();
                }
            }
            if self.channel.transfer.swap(false, Ordering::SeqCst) && !self.channel.hungup.load(Ordering::SeqCst) {
                let dest = lock(&self.transfers).last().cloned().unwrap_or_default();
                ext = dest.split_whitespace().next().map(str::to_string);
            }
        }
        self.destroy();
    }
}

fn session<'a>(p: *mut ffi::switch_core_session_t) -> &'a Session {
    assert!(!p.is_null(), "NULL session passed to the core");
    // SAFETY: every session pointer the module has came from this host and is alive.
    unsafe { &*(p as *const Session) }
}

fn channel<'a>(p: *mut ffi::switch_channel_t) -> &'a Channel {
    assert!(!p.is_null(), "NULL channel passed to the core");
    // SAFETY: as above.
    unsafe { &*(p as *const Channel) }
}

fn channel_session<'a>(c: &Channel) -> &'a Session {
    // SAFETY: the channel's session outlives it.
    unsafe { &*(*c.session.get().unwrap() as *const Session) }
}

// ---------------------------------------------------------------------------------------------
// The exported core functions.

#[allow(dead_code)]
pub struct ModuleRec {
    pub name: String,
}

#[no_mangle]
pub extern "C" fn switch_loadable_module_create_module_interface(
    pool: *mut ffi::switch_memory_pool_t,
    name: *const c_char,
) -> *mut ffi::switch_loadable_module_interface_t {
    assert!(!pool.is_null());
    // SAFETY: the module's NUL-terminated name.
    let name = unsafe { text(name) };
    let p = Box::into_raw(Box::new(ModuleRec { name }));
    lock(&world().module_recs).push(p as usize);
    p as *mut ffi::switch_loadable_module_interface_t
}

#[no_mangle]
pub extern "C" fn switch_loadable_module_create_interface(
    m: *mut ffi::switch_loadable_module_interface_t,
    iname: ffi::switch_module_interface_name_t,
) -> *mut c_void {
    assert!(!m.is_null());
    #[allow(non_upper_case_globals)]
    match iname {
        ffi::SWITCH_APPLICATION_INTERFACE => {
            let p = Box::into_raw(Box::new(ffi::switch_application_interface_t::default()));
            lock(&world().app_ifaces).push(p as usize);
            p as *mut c_void
        }
        ffi::SWITCH_API_INTERFACE => {
            let p = Box::into_raw(Box::new(ffi::switch_api_interface_t::default()));
            lock(&world().api_ifaces).push(p as usize);
            p as *mut c_void
        }
        _ => std::ptr::null_mut(),
    }
}

#[no_mangle]
pub extern "C" fn host_log(
    _channel: c_int,
    _file: *const c_char,
    _func: *const c_char,
    _line: c_int,
    userdata: *const c_char,
    level: c_int,
    msg: *const c_char,
) {
    // SAFETY: the glue's formatted text.
    let text_ = unsafe { text(msg) };
    let uuid = if _channel == ffi::SWITCH_CHANNEL_ID_SESSION as c_int && !userdata.is_null() {
        Some(session(userdata as *mut ffi::switch_core_session_t).uuid.clone())
    } else {
        None
    };
    if std::env::var_os("HOST_LOG").is_some() {
        eprint!("[{level}] {}{text_}", uuid.as_deref().map(|u| format!("{u} ")).unwrap_or_default());
    }
    lock(&world().logs).push(LogLine { level, uuid, text: text_ });
}

/// Output of an API command: the stream's `data` points at one of these.
pub struct StreamBuf(pub String);

#[no_mangle]
pub extern "C" fn host_stream_write(handle: *mut c_void, msg: *const c_char) -> c_int {
    let h = handle as *mut ffi::switch_stream_handle_t;
    // SAFETY: a stream made by `call_api`, whose data is a StreamBuf.
    unsafe {
        let buf = &mut *((*h).data as *mut StreamBuf);
        buf.0.push_str(&text(msg));
    }
    0
}

extern "C" {
    fn host_stream_write_function(handle: *mut c_void, fmt: *const c_char, ...) -> c_int;
}

/// Runs an API command as fs_cli or `${api(args)}` would, returning its output.
pub fn call_api(name: &str, cmd: Option<&str>, sess: Option<&Session>) -> String {
    let f = lock(&world().apis).get(name).copied().flatten().unwrap_or_else(|| panic!("no API {name}"));
    let mut buf = StreamBuf(String::new());
    let mut stream = ffi::switch_stream_handle_t::default();
    stream.data = &mut buf as *mut StreamBuf as *mut c_void;
    // SAFETY: same ABI; the stream handle pointer is passed as the opaque first argument.
    stream.write_function = Some(unsafe {
        std::mem::transmute::<
            unsafe extern "C" fn(*mut c_void, *const c_char, ...) -> c_int,
            unsafe extern "C" fn(*mut ffi::switch_stream_handle_t, *const c_char, ...) -> ffi::switch_status_t,
        >(host_stream_write_function)
    });
    let c = cmd.map(|c| CString::new(c).unwrap());
    let sp = sess.map_or(std::ptr::null_mut(), |s| s.ptr());
    // SAFETY: the module's API function with a live stream.
    let st = unsafe { f(c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()), sp, &mut stream) };
    assert_eq!(st, ffi::SWITCH_STATUS_SUCCESS, "{name} returned {st}");
    buf.0
}

#[no_mangle]
pub extern "C" fn switch_core_session_get_channel(s: *mut ffi::switch_core_session_t) -> *mut ffi::switch_channel_t {
    &session(s).channel as *const Channel as *mut ffi::switch_channel_t
}

#[no_mangle]
pub extern "C" fn switch_core_session_get_uuid(s: *mut ffi::switch_core_session_t) -> *mut c_char {
    session(s).uuid_c.as_ptr() as *mut c_char
}

#[no_mangle]
pub extern "C" fn switch_core_session_get_read_impl(
    s: *mut ffi::switch_core_session_t,
    imp: *mut ffi::switch_codec_implementation_t,
) -> ffi::switch_status_t {
    let s = session(s);
    assert!(!imp.is_null());
    let rate = s.rate.load(Ordering::SeqCst);
    let mut i = ffi::switch_codec_implementation_t::default();
    i.samples_per_second = rate;
    i.actual_samples_per_second = rate;
    i.number_of_channels = s.channels.load(Ordering::SeqCst) as u8;
    i.microseconds_per_packet = 20_000;
    i.samples_per_packet = rate / 50;
    i.decoded_bytes_per_packet = rate / 50 * 2;
    // SAFETY: the module's struct, checked non-NULL.
    unsafe { *imp = i };
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_core_session_execute_application_async(
    s: *mut ffi::switch_core_session_t,
    app: *const c_char,
    arg: *const c_char,
) -> ffi::switch_status_t {
    let s = session(s);
    // SAFETY: NUL-terminated strings (arg may be NULL).
    let (app, arg) = unsafe { (text(app), if arg.is_null() { None } else { Some(text(arg)) }) };
    lock(&s.queue).push_back((app, arg));
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_core_session_perform_locate(
    uuid: *const c_char,
    _file: *const c_char,
    _func: *const c_char,
    _line: c_int,
) -> *mut ffi::switch_core_session_t {
    // SAFETY: a NUL-terminated UUID.
    let uuid = unsafe { text(uuid) };
    match lock(&world().sessions).get(&uuid) {
        Some(s) => {
            world().locks_held.fetch_add(1, Ordering::SeqCst);
            Arc::into_raw(s.clone()) as *mut ffi::switch_core_session_t
        }
        None => std::ptr::null_mut(),
    }
}

#[no_mangle]
pub extern "C" fn switch_core_session_rwunlock(s: *mut ffi::switch_core_session_t) {
    assert!(!s.is_null());
    world().locks_held.fetch_sub(1, Ordering::SeqCst);
    // SAFETY: the reference `locate` handed out.
    drop(unsafe { Arc::from_raw(s as *const Session) });
}

#[no_mangle]
pub extern "C" fn switch_channel_get_variable_dup(
    c: *mut ffi::switch_channel_t,
    name: *const c_char,
    _dup: ffi::switch_bool_t,
    _idx: c_int,
) -> *const c_char {
    let c = channel(c);
    // SAFETY: a NUL-terminated name.
    let name = unsafe { text(name) };
    match lock(&c.vars).get(&name) {
        Some(v) => {
            let cs = CString::new(v.as_str()).unwrap();
            let p = cs.as_ptr();
            lock(&c.pool).push(cs);
            p
        }
        None => std::ptr::null(),
    }
}

#[no_mangle]
pub extern "C" fn switch_channel_set_variable_var_check(
    c: *mut ffi::switch_channel_t,
    name: *const c_char,
    value: *const c_char,
    _check: ffi::switch_bool_t,
) -> ffi::switch_status_t {
    let c = channel(c);
    // SAFETY: NUL-terminated strings; NULL value unsets.
    let (name, value) = unsafe { (text(name), if value.is_null() { None } else { Some(text(value)) }) };
    let mut vars = lock(&c.vars);
    match value {
        Some(v) => vars.insert(name, v),
        None => vars.remove(&name),
    };
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_channel_test_ready(
    c: *mut ffi::switch_channel_t,
    _check_ready: ffi::switch_bool_t,
    _check_media: ffi::switch_bool_t,
) -> c_int {
    channel_session(channel(c)).ready() as c_int
}

#[no_mangle]
pub extern "C" fn switch_channel_set_flag_value(c: *mut ffi::switch_channel_t, flag: ffi::switch_channel_flag_t, value: u32) {
    let c = channel(c);
    #[allow(non_upper_case_globals)]
    match flag {
        ffi::CF_BREAK => c.brk.store(value != 0, Ordering::SeqCst),
        ffi::CF_TRANSFER => c.transfer.store(value != 0, Ordering::SeqCst),
        ffi::CF_ANSWERED => c.answered.store(value != 0, Ordering::SeqCst),
        other => panic!("the host does not simulate channel flag {other}"),
    }
}

#[no_mangle]
pub extern "C" fn switch_channel_clear_flag(c: *mut ffi::switch_channel_t, flag: ffi::switch_channel_flag_t) {
    switch_channel_set_flag_value(c, flag, 0)
}

pub struct Event {
    subclass: String,
    headers: Vec<(String, String)>,
}

#[no_mangle]
pub extern "C" fn switch_channel_event_set_data(c: *mut ffi::switch_channel_t, e: *mut ffi::switch_event_t) {
    let c = channel(c);
    assert!(!e.is_null());
    // SAFETY: an event made by create_subclass.
    let e = unsafe { &mut *(e as *mut Event) };
    e.headers.push(("Unique-ID".into(), channel_session(c).uuid.clone()));
    let mut vars: Vec<_> = lock(&c.vars).iter().map(|(k, v)| (format!("variable_{k}"), v.clone())).collect();
    vars.sort();
    e.headers.extend(vars);
}

#[no_mangle]
pub extern "C" fn switch_core_media_bug_add(
    s: *mut ffi::switch_core_session_t,
    _function: *const c_char,
    _target: *const c_char,
    callback: ffi::switch_media_bug_callback_t,
    user_data: *mut c_void,
    _stop_time: i64,
    flags: ffi::switch_media_bug_flag_t,
    new_bug: *mut *mut ffi::switch_media_bug_t,
) -> ffi::switch_status_t {
    let s = session(s);
    assert!(!new_bug.is_null());
    if !s.ready() {
        return ffi::SWITCH_STATUS_FALSE;
    }
    let mut flags = flags;
    if s.var("media_bug_answer_req").is_some_and(|v| v == "true") {
        flags |= ffi::SMBF_ANSWER_REQ;
    }
    let b = Box::new(Bug {
        session: s as *const Session,
        callback,
        user_data,
        flags,
        stream: Mutex::new(BugStream::default()),
        prune: AtomicBool::new(false),
    });
    let bp = &*b as *const Bug as *mut ffi::switch_media_bug_t;
    if let Some(cb) = callback {
        // SAFETY: the module's callback with its own user data.
        if unsafe { cb(bp, user_data, ffi::SWITCH_ABC_TYPE_INIT) } == ffi::SWITCH_FALSE {
            return ffi::SWITCH_STATUS_GENERR;
        }
    }
    // SAFETY: checked non-NULL.
    unsafe { *new_bug = bp };
    s.bugs.write().unwrap().push(b);
    s.bug_adds.fetch_add(1, Ordering::SeqCst);
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_core_media_bug_remove_callback(
    s: *mut ffi::switch_core_session_t,
    callback: ffi::switch_media_bug_callback_t,
) -> ffi::switch_status_t {
    let s = session(s);
    let removed: Vec<Box<Bug>> = {
        let mut bugs = s.bugs.write().unwrap();
        let (r, keep): (Vec<_>, Vec<_>) = bugs.drain(..).partition(|b| b.callback.map(|f| f as usize) == callback.map(|f| f as usize));
        *bugs = keep;
        r
    };
    let n = removed.len();
    for b in removed {
        s.close_bug(b);
    }
    if n > 0 {
        ffi::SWITCH_STATUS_SUCCESS
    } else {
        ffi::SWITCH_STATUS_FALSE
    }
}

/// One packet out of the bug's buffer; FALSE, as the real one with `fill` set (as the module
/// calls it), when less than a packet is buffered or the caller's buffer is too small. Without
/// `fill` the real one pads an empty buffer with filler; the host does not emulate that.
#[no_mangle]
pub extern "C" fn switch_core_media_bug_read(
    b: *mut ffi::switch_media_bug_t,
    frame: *mut ffi::switch_frame_t,
    _fill: ffi::switch_bool_t,
) -> ffi::switch_status_t {
    assert!(!b.is_null() && !frame.is_null());
    // SAFETY: a bug made by media_bug_add, inside its callback; the caller's frame.
    let (b, f) = unsafe { (&*(b as *const Bug), &mut *frame) };
    let mut st = lock(&b.stream);
    f.datalen = 0;
    if st.packet == 0 || (f.buflen as usize) < st.packet || f.data.is_null() {
        return ffi::SWITCH_STATUS_FALSE;
    }
    if st.bytes.len() < st.packet {
        return ffi::SWITCH_STATUS_FALSE;
    }
    let n = st.packet;
    // SAFETY: the caller's buffer holds `buflen` >= n bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(f.data as *mut u8, n) };
    for (o, v) in out.iter_mut().zip(st.bytes.drain(..n)) {
        *o = v;
    }
    f.datalen = n as u32;
    f.channels = st.channels.max(1);
    f.samples = (n / 2) as u32 / f.channels;
    f.rate = st.rate;
    f.codec = std::ptr::null_mut();
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_core_media_bug_get_session(b: *mut ffi::switch_media_bug_t) -> *mut ffi::switch_core_session_t {
    assert!(!b.is_null());
    // SAFETY: as above.
    unsafe { (*(b as *mut Bug)).session as *mut ffi::switch_core_session_t }
}

#[no_mangle]
pub extern "C" fn switch_event_create_subclass_detailed(
    _file: *const c_char,
    _func: *const c_char,
    _line: c_int,
    event: *mut *mut ffi::switch_event_t,
    id: ffi::switch_event_types_t,
    subclass: *const c_char,
) -> ffi::switch_status_t {
    assert!(!event.is_null());
    assert_eq!(id, ffi::SWITCH_EVENT_CUSTOM);
    // SAFETY: a NUL-terminated subclass.
    let subclass = unsafe { text(subclass) };
    let e = Box::new(Event { subclass: subclass.clone(), headers: vec![("Event-Subclass".into(), subclass)] });
    world().live_events.fetch_add(1, Ordering::SeqCst);
    // SAFETY: checked non-NULL.
    unsafe { *event = Box::into_raw(e) as *mut ffi::switch_event_t };
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_event_add_header_string(
    e: *mut ffi::switch_event_t,
    _stack: ffi::switch_stack_t,
    name: *const c_char,
    data: *const c_char,
) -> ffi::switch_status_t {
    assert!(!e.is_null());
    // SAFETY: an event made by create_subclass; NUL-terminated strings.
    unsafe { (*(e as *mut Event)).headers.push((text(name), text(data))) };
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_event_fire_detailed(
    _file: *const c_char,
    _func: *const c_char,
    _line: c_int,
    event: *mut *mut ffi::switch_event_t,
    _user_data: *mut c_void,
) -> ffi::switch_status_t {
    assert!(!event.is_null());
    // SAFETY: the module's event, now ours.
    let e = unsafe { Box::from_raw(*event as *mut Event) };
    // SAFETY: checked non-NULL; the core clears the caller's pointer.
    unsafe { *event = std::ptr::null_mut() };
    world().live_events.fetch_sub(1, Ordering::SeqCst);
    lock(&world().events).push(FiredEvent { subclass: e.subclass, headers: e.headers });
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_event_destroy(event: *mut *mut ffi::switch_event_t) {
    // SAFETY: NULL or an unfired event.
    unsafe {
        if !event.is_null() && !(*event).is_null() {
            drop(Box::from_raw(*event as *mut Event));
            *event = std::ptr::null_mut();
            world().live_events.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[no_mangle]
pub extern "C" fn switch_event_reserve_subclass_detailed(owner: *const c_char, subclass: *const c_char) -> ffi::switch_status_t {
    // SAFETY: NUL-terminated strings.
    let (o, s) = unsafe { (text(owner), text(subclass)) };
    let key = format!("{o}/{s}");
    let mut r = lock(&world().reserved);
    if r.contains(&key) {
        return ffi::SWITCH_STATUS_FALSE;
    }
    r.push(key);
    ffi::SWITCH_STATUS_SUCCESS
}

#[no_mangle]
pub extern "C" fn switch_event_free_subclass_detailed(owner: *const c_char, subclass: *const c_char) -> ffi::switch_status_t {
    // SAFETY: NUL-terminated strings.
    let (o, s) = unsafe { (text(owner), text(subclass)) };
    let key = format!("{o}/{s}");
    lock(&world().reserved).retain(|k| *k != key);
    ffi::SWITCH_STATUS_SUCCESS
}

struct Xml(String);

#[no_mangle]
pub extern "C" fn switch_xml_open_cfg(
    path: *const c_char,
    node: *mut ffi::switch_xml_t,
    _params: *mut ffi::switch_event_t,
) -> ffi::switch_xml_t {
    // SAFETY: a NUL-terminated name.
    assert_eq!(unsafe { text(path) }, "amd.conf");
    assert!(!node.is_null());
    match lock(&world().config_xml).clone() {
        Some(t) => {
            world().live_xml.fetch_add(1, Ordering::SeqCst);
            let x = Box::into_raw(Box::new(Xml(t))) as ffi::switch_xml_t;
            // SAFETY: checked non-NULL.
            unsafe { *node = x };
            x
        }
        None => std::ptr::null_mut(),
    }
}

#[no_mangle]
pub extern "C" fn switch_xml_toxml_ex(x: ffi::switch_xml_t, _hdr: ffi::switch_bool_t, _utf8: ffi::switch_bool_t) -> *mut c_char {
    assert!(!x.is_null());
    // SAFETY: an Xml made by open_cfg.
    let t = unsafe { &(*(x as *const Xml)).0 };
    // The real core returns malloc'd text the caller frees with free().
    // SAFETY: a fresh buffer of the right size, NUL-terminated.
    unsafe {
        let p = libc::malloc(t.len() + 1) as *mut u8;
        std::ptr::copy_nonoverlapping(t.as_ptr(), p, t.len());
        *p.add(t.len()) = 0;
        p as *mut c_char
    }
}

#[no_mangle]
pub extern "C" fn switch_xml_free(x: ffi::switch_xml_t) {
    if !x.is_null() {
        world().live_xml.fetch_sub(1, Ordering::SeqCst);
        // SAFETY: an Xml made by open_cfg.
        drop(unsafe { Box::from_raw(x as *mut Xml) });
    }
}

#[no_mangle]
pub extern "C" fn switch_ivr_play_file(
    s: *mut ffi::switch_core_session_t,
    _fh: *mut c_void,
    file: *const c_char,
    _args: *mut c_void,
) -> ffi::switch_status_t {
    // SAFETY: a NUL-terminated file name.
    let f = unsafe { text(file) };
    session(s).play(&f)
}

#[no_mangle]
pub extern "C" fn switch_ivr_sleep(
    s: *mut ffi::switch_core_session_t,
    ms: u32,
    _sync: ffi::switch_bool_t,
    _args: *mut c_void,
) -> ffi::switch_status_t {
    session(s).sleep(ms)
}

#[no_mangle]
pub extern "C" fn switch_ivr_parse_all_events(s: *mut ffi::switch_core_session_t) -> ffi::switch_status_t {
    session(s).parse_all_events();
    ffi::SWITCH_STATUS_SUCCESS
}

/// After load: the applications and API commands the module registered, by name. The
/// interface structs are freed once read (the module keeps no pointer to them after load),
/// so the memory checker sees no leak of the host's own.
pub fn collect_interfaces() {
    let w = world();
    let mut apps = lock(&w.apps);
    apps.clear();
    for p in lock(&w.app_ifaces).drain(..) {
        // SAFETY: structs made by create_interface and filled in by the module; ours again.
        let a = unsafe { Box::from_raw(p as *mut ffi::switch_application_interface_t) };
        // SAFETY: the module's static names.
        apps.insert(unsafe { text(a.interface_name) }, a.application_function);
    }
    let mut apis = lock(&w.apis);
    apis.clear();
    for p in lock(&w.api_ifaces).drain(..) {
        // SAFETY: as above.
        let a = unsafe { Box::from_raw(p as *mut ffi::switch_api_interface_t) };
        // SAFETY: as above.
        apis.insert(unsafe { text(a.interface_name) }, a.function);
    }
    for p in lock(&w.module_recs).drain(..) {
        // SAFETY: made by create_module_interface; the module used it during load only.
        drop(unsafe { Box::from_raw(p as *mut ModuleRec) });
    }
}
