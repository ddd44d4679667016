//! Generates the FreeSWITCH bindings (src/ffi/) with bindgen.
//!
//! With a FreeSWITCH SDK (`pkg-config freeswitch`), the bindings come from its real headers and
//! our own declarations (include/fs_abi.h) are generated too, for tests/layout.rs to check against
//! them. Without one, the bindings come from include/fs_abi.h. Either way the core's functions are
//! resolved at run time from the process's global symbols (bindgen's dynamic loading), so nothing
//! here links against FreeSWITCH.

use std::env;
use std::path::{Path, PathBuf};

/// Core functions the module calls.
const FUNCTIONS: &[&str] = &[
    "switch_loadable_module_create_module_interface",
    "switch_loadable_module_create_interface",
    "switch_log_printf",
    "switch_core_session_get_channel",
    "switch_core_session_get_uuid",
    "switch_core_session_get_read_impl",
    "switch_core_session_execute_application_async",
    "switch_core_session_perform_locate",
    "switch_core_session_rwunlock",
    "switch_channel_get_variable_dup",
    "switch_channel_set_variable_var_check",
    "switch_channel_test_ready",
    "switch_channel_set_flag_value",
    "switch_channel_clear_flag",
    "switch_channel_event_set_data",
    "switch_core_media_bug_add",
    "switch_core_media_bug_remove_callback",
    "switch_core_media_bug_read",
    "switch_core_media_bug_get_session",
    "switch_event_create_subclass_detailed",
    "switch_event_add_header_string",
    "switch_event_fire_detailed",
    "switch_event_destroy",
    "switch_event_reserve_subclass_detailed",
    "switch_event_free_subclass_detailed",
    "switch_xml_open_cfg",
    "switch_xml_toxml_ex",
    "switch_xml_free",
    "switch_ivr_play_file",
    "switch_ivr_sleep",
    "switch_ivr_parse_all_events",
];

/// Types the module (or the test host) reads or fills.
const TYPES: &[&str] = &[
    "switch_frame_t",
    "switch_codec_implementation_t",
    "switch_stream_handle_t",
    "switch_application_interface_t",
    "switch_api_interface_t",
    "switch_loadable_module_function_table_t",
    "switch_application_function_t",
    "switch_api_function_t",
    "switch_media_bug_callback_t",
    "switch_module_load_t",
    "switch_module_shutdown_t",
    "switch_module_runtime_t",
    "switch_status_t",
    "switch_bool_t",
    "switch_log_level_t",
    "switch_text_channel_t",
    "switch_module_interface_name_t",
    "switch_abc_type_t",
    "switch_media_bug_flag_t",
    "switch_channel_flag_t",
    "switch_event_types_t",
    "switch_stack_t",
    "switch_application_flag_t",
    "switch_media_bug_flag_enum_t",
    "switch_application_flag_enum_t",
];

/// Constants the module and its test host use (tests/layout.rs checks each one against the real
/// headers).
const CONSTANTS: &[&str] = &[
    "SWITCH_API_VERSION",
    "SWITCH_RECOMMENDED_BUFFER_SIZE",
    "SWITCH_FALSE",
    "SWITCH_TRUE",
    "SWITCH_STATUS_SUCCESS",
    "SWITCH_STATUS_FALSE",
    "SWITCH_STATUS_GENERR",
    "SWITCH_STATUS_BREAK",
    "SWITCH_STATUS_NOTFOUND",
    "SWITCH_STATUS_NOUNLOAD",
    "SWITCH_LOG_DEBUG",
    "SWITCH_LOG_INFO",
    "SWITCH_LOG_NOTICE",
    "SWITCH_LOG_WARNING",
    "SWITCH_LOG_ERROR",
    "SWITCH_LOG_CRIT",
    "SWITCH_LOG_CONSOLE",
    "SWITCH_CHANNEL_ID_LOG",
    "SWITCH_CHANNEL_ID_SESSION",
    "SWITCH_APPLICATION_INTERFACE",
    "SWITCH_API_INTERFACE",
    "SWITCH_ABC_TYPE_INIT",
    "SWITCH_ABC_TYPE_READ",
    "SWITCH_ABC_TYPE_CLOSE",
    "SMBF_READ_STREAM",
    "SMBF_ANSWER_REQ",
    "SMBF_NO_PAUSE",
    "CF_ANSWERED",
    "CF_TRANSFER",
    "CF_BREAK",
    "SWITCH_EVENT_CUSTOM",
    "SWITCH_STACK_BOTTOM",
    "SAF_NONE",
    "SAF_SUPPORT_NOMEDIA",
];

fn builder(header: &Path, clang_args: &[String]) -> bindgen::Builder {
    let mut b = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_args(clang_args)
        .dynamic_library_name("FsCore")
        .dynamic_link_require_all(true)
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(false)
        .derive_default(true)
        .generate_comments(false)
        .allowlist_recursively(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for f in FUNCTIONS {
        b = b.allowlist_function(f);
    }
    for t in TYPES {
        b = b.allowlist_type(t);
    }
    for c in CONSTANTS {
        b = b.allowlist_var(c);
    }
    b
}

fn generate(header: &Path, clang_args: &[String], out: &Path) {
    builder(header, clang_args)
        .generate()
        .unwrap_or_else(|e| panic!("bindgen failed on {}: {e}", header.display()))
        .write_to_file(out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// Compiles our function prototypes (include/fs_abi_functions.h) after the SDK's <switch.h>. C
/// accepts a function declared twice only when both declarations have compatible types, so the
/// compiler's verdict is the check; tests/layout.rs fails with its message if it found a
/// difference. The result goes to a file, not a build error, so the module still builds against
/// the SDK's own prototypes and the test names what differs.
fn check_prototypes(include: &Path, sdk_args: &[String], out_dir: &Path) {
    let source = out_dir.join("prototype_check.c");
    std::fs::write(&source, "#include <switch.h>\n#include \"fs_abi_functions.h\"\n").expect("write prototype_check.c");
    let compiler = cc::Build::new().cargo_metadata(false).get_compiler();
    let output = compiler
        .to_command()
        .arg("-fsyntax-only")
        .arg(format!("-I{}", include.display()))
        .args(sdk_args)
        .arg(&source)
        .output();
    let verdict = match output {
        Ok(o) if o.status.success() => String::new(),
        Ok(o) => format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        Err(e) => format!("could not run the C compiler {:?}: {e}", compiler.path()),
    };
    std::fs::write(out_dir.join("prototype_check.txt"), verdict).expect("write prototype_check.txt");
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let ours = manifest.join("include/fs_abi.h");
    let sdk_header = manifest.join("include/fs_sdk.h");

    println!("cargo:rustc-check-cfg=cfg(freeswitch_sdk)");
    println!("cargo:rerun-if-changed=include");
    println!("cargo:rerun-if-changed=tests/host/exports.list");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");
    println!("cargo:rerun-if-env-changed=MOD_RUST_AMD_NO_SDK");

    // Our own declarations: always generated (the module's bindings without an SDK, the
    // reference for the layout check with one).
    generate(&ours, &[], &out_dir.join("fs_abi.rs"));

    let sdk = if env::var_os("MOD_RUST_AMD_NO_SDK").is_some() {
        None
    } else {
        pkg_config::Config::new().cargo_metadata(false).env_metadata(false).probe("freeswitch").ok()
    };
    match sdk {
        Some(lib) => {
            let mut args: Vec<String> = lib.include_paths.iter().map(|p| format!("-I{}", p.display())).collect();
            for (k, v) in &lib.defines {
                args.push(match v {
                    Some(v) => format!("-D{k}={v}"),
                    None => format!("-D{k}"),
                });
            }
            generate(&sdk_header, &args, &out_dir.join("bindings.rs"));
            check_prototypes(&manifest.join("include"), &args, &out_dir);
            println!("cargo:rustc-cfg=freeswitch_sdk");
            println!("cargo:warning=building against the FreeSWITCH SDK {} headers", lib.version);
        }
        None => {
            std::fs::copy(out_dir.join("fs_abi.rs"), out_dir.join("bindings.rs")).expect("copy bindings");
        }
    }

    // The test host (tests/host.rs) provides the core's functions itself: export exactly those
    // from the test executables so that the module, loaded with dlopen, finds them by dlsym.
    // Its variadic functions (switch_log_printf, the stream's write function) are C glue.
    let list = manifest.join("tests/host/exports.list");
    let glue = manifest.join("tests/host/glue.c");
    if list.exists() && glue.exists() {
        println!("cargo:rerun-if-changed={}", glue.display());
        cc::Build::new().file(&glue).cargo_metadata(false).warnings(true).compile("mod_rust_amd_host_glue");
        println!("cargo:rustc-link-arg-tests=-Wl,--dynamic-list={}", list.display());
        println!("cargo:rustc-link-arg-tests={}", out_dir.join("libmod_rust_amd_host_glue.a").display());
    }
}
