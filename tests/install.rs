//! scripts/install as an operator (or a packager, with DESTDIR) runs it: the module installed
//! stripped, amd.conf.xml only where there is none, the next steps printed; with nowhere to
//! install to, a clear message and nothing written.

#[path = "shared/built_module.rs"]
mod built_module;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join("install")
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amd-install-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the script with no SDK and no fs_cli to be found (a PATH of the system's tools only).
fn install(destdir: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script())
        .args(args)
        .env("DESTDIR", destdir)
        .env("PKG_CONFIG_LIBDIR", "/nonexistent")
        .env("PKG_CONFIG_PATH", "/nonexistent")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("bash runs the script")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn installs_the_module_and_a_missing_amd_conf_xml_and_never_overwrites_one() {
    let dest = scratch("dest");
    let module = built_module::path();
    let m = module.display().to_string();
    let args = ["--module", m.as_str(), "--moddir", "/usr/lib/freeswitch/mod", "--confdir", "/etc/freeswitch"];
    let out = install(&dest, &args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let so = dest.join("usr/lib/freeswitch/mod/mod_rust_amd.so");
    let conf = dest.join("etc/freeswitch/autoload_configs/amd.conf.xml");
    assert!(so.is_file() && conf.is_file(), "{stdout}");
    assert!(std::fs::metadata(&so).unwrap().len() <= std::fs::metadata(&module).unwrap().len());
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/autoload_configs/amd.conf.xml")).unwrap();
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), shipped);
    for needle in ["<load module=\"mod_rust_amd\"/>", "fs_cli -x 'load mod_rust_amd'", "/etc/freeswitch/autoload_configs/modules.conf.xml"] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
    // The module still exports what FreeSWITCH loads it by.
    if let Ok(nm) = Command::new("nm").arg("-D").arg(&so).output() {
        assert!(text(&nm.stdout).contains("mod_rust_amd_module_interface"), "{}", text(&nm.stdout));
    }

    // An operator's own amd.conf.xml stays as it is.
    std::fs::write(&conf, "<configuration name=\"amd.conf\"><settings/></configuration>\n").unwrap();
    let out = install(&dest, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("kept the existing"), "{}", text(&out.stdout));
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "<configuration name=\"amd.conf\"><settings/></configuration>\n");
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn with_nowhere_to_install_to_it_says_so_and_writes_nothing() {
    let dest = scratch("nowhere");
    let m = built_module::path().display().to_string();
    let out = install(&dest, &["--module", m.as_str()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot tell where FreeSWITCH keeps") && stderr.contains("Nothing was written"), "{stderr}");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0, "nothing written");
    let out = install(&dest, &["--moddir"]);
    assert_eq!(out.status.code(), Some(2), "a flag without its value: usage");
    std::fs::remove_dir_all(&dest).unwrap();
}
