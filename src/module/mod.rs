//! mod_rust_amd, the FreeSWITCH module: load and shutdown, channel slots, per-call detection,
//! the applications and API commands. Talks to FreeSWITCH only through [`crate::freeswitch`].

pub mod actions;
pub mod api;
pub mod apps;
pub mod call;
pub mod config;
pub mod detection;
pub mod fault;
pub mod recorder;
pub mod registry;
pub mod resample;
pub mod slots;
pub mod stats;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use crate::detector::CONFIG_NAME;
use crate::ffi;
use crate::freeswitch::entry::{cstr, function_table, Module, Registrar};
use crate::freeswitch::event;
use crate::freeswitch::log::{log, Level};
use crate::freeswitch::media_bug;
use crate::freeswitch::pin;
use crate::freeswitch::session::LocatedSession;
use crate::freeswitch::xml;
use config::ModuleConfig;

/// What FreeSWITCH looks up when it loads mod_rust_amd.so.
#[no_mangle]
pub static mod_rust_amd_module_interface: ffi::switch_loadable_module_function_table_t = function_table::<AmdModule>();

const MODULE_NAME: &str = "mod_rust_amd";

static CONFIG: RwLock<Option<ModuleConfig>> = RwLock::new(None);
static SLOTS: slots::Slots = slots::Slots::new(config::DEFAULT_MAX_CHANNELS);
static STATS: stats::Stats = stats::Stats::new();
/// Shutdown is stopping the running detections (only when the library could not be pinned).
pub(crate) static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);
/// This library stays mapped after unload (see [`crate::freeswitch::pin`]): running detections
/// may outlive a shutdown.
static PINNED: AtomicBool = AtomicBool::new(false);

/// The configuration read at load (defaults before).
pub fn config() -> ModuleConfig {
    CONFIG.read().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default()
}

pub fn slots() -> &'static slots::Slots {
    &SLOTS
}

pub fn stats() -> &'static stats::Stats {
    &STATS
}

/// Reads amd.conf.xml through the core, logging every bad value.
fn read_config() -> ModuleConfig {
    match xml::config_text(CONFIG_NAME) {
        None => {
            log(Level::Warning, &format!("{CONFIG_NAME}.xml not found: using the defaults"));
            ModuleConfig::default()
        }
        Some(text) => {
            let (cfg, problems) = ModuleConfig::from_xml(&text);
            for p in problems {
                log(Level::Warning, &p);
            }
            cfg
        }
    }
}

pub struct AmdModule;

impl Module for AmdModule {
    const NAME: &'static std::ffi::CStr = cstr(b"mod_rust_amd\0");

    fn load(reg: &mut Registrar) -> Result<(), String> {
        SHUTTING_DOWN.store(false, Ordering::SeqCst);
        if fault::ENABLED {
            log(Level::Crit, "this mod_rust_amd was built with the fault-injection feature, for tests only: do not run it in service");
        }
        if !PINNED.load(Ordering::SeqCst) {
            match pin::pin_this_library() {
                Ok(()) => PINNED.store(true, Ordering::SeqCst),
                Err(e) => log(Level::Warning, &format!("{e}: running detections will be stopped at unload or reload")),
            }
        }
        let cfg = read_config();
        // Parsed here, once, rather than in the first call's media thread.
        crate::detector::BeepModel::builtin();
        SLOTS.set_max(cfg.max_channels);
        let max = cfg.max_channels;
        *CONFIG.write().unwrap_or_else(|p| p.into_inner()) = Some(cfg);
        reg.add_app::<apps::VoiceStart>()?;
        reg.add_app::<apps::VoiceStop>()?;
        reg.add_app::<apps::WaitForResult>()?;
        reg.add_api::<api::AmdInfo>()?;
        reg.add_api::<api::AmdAvailable>()?;
        reg.add_api::<api::AmdCount>()?;
        reg.add_api::<api::UuidVoiceStart>()?;
        reg.add_api::<api::UuidVoiceStop>()?;
        reg.add_api::<api::AmdStats>()?;
        // Last, so that a failed load leaves no subclass reserved for the next attempt to trip on.
        if !event::reserve_subclass(MODULE_NAME, call::EVENT_SUBCLASS).is_ok() {
            log(Level::Warning, &format!("cannot reserve the event subclass {} (another module has it?)", call::EVENT_SUBCLASS));
        }
        STATS.reset();
        log(Level::Notice, &format!("{MODULE_NAME} loaded: {max} AMD channels (max_channels)"));
        Ok(())
    }

    fn shutdown() -> bool {
        let calls = registry::all();
        let mut all_detached = true;
        let n = calls.len();
        if PINNED.load(Ordering::SeqCst) {
            // `reload` is shutdown then load: running calls finish with the settings they started
            // with (each call holds its own copy); the next load only changes what new calls get.
            log(
                Level::Notice,
                &format!("{MODULE_NAME} shut down: {n} running detection(s) carry on with the settings they started with"),
            );
        } else {
            SHUTTING_DOWN.store(true, Ordering::SeqCst);
            for c in calls {
                // Detach in the session's name so no callback into this library outlives it.
                match LocatedSession::find(&c.uuid) {
                    Some(located) => {
                        media_bug::detach::<call::Call>(&located.session());
                    }
                    // Being torn down: its bug closes later, from the core, into this library.
                    None => all_detached = false,
                }
                c.finish();
            }
            log(
                Level::Notice,
                &format!("{MODULE_NAME} shut down ({n} detection(s) stopped; {} slot(s) still allocated)", SLOTS.allocated()),
            );
        }
        event::free_subclass(MODULE_NAME, call::EVENT_SUBCLASS);
        if !PINNED.load(Ordering::SeqCst) && !recorder::wait_for_writers(std::time::Duration::from_secs(2)) {
            // Their threads run this library's code: it must stay mapped.
            log(Level::Warning, &format!("{MODULE_NAME}: a recording is still being written; the library stays loaded"));
            all_detached = false;
        }
        if !all_detached {
            log(Level::Warning, &format!("{MODULE_NAME}: a detection could not be detached; the library stays loaded"));
        }
        all_detached
    }
}
