//! scripts/package builds the Debian package, laid out as FreeSWITCH's own packages are: the
//! module in /usr/lib/freeswitch/mod (exporting what FreeSWITCH loads it by), amd.conf.xml as a
//! conffile, and no dependency beyond what any FreeSWITCH needs. Where FreeSWITCH is installed,
//! the packaged module is loaded into it and decides a call.

#[path = "shared/built_module.rs"]
mod built_module;
#[path = "live/harness.rs"]
mod harness;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::{crate_dir, sdk, Fs, Options};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_debian_package_holds_the_module_and_its_conffile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    run(Command::new("bash").arg(root.join("scripts/package")));
    let debs: Vec<_> = std::fs::read_dir(root.join("target/debian"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb") && p.file_name().unwrap().to_string_lossy().starts_with("freeswitch-mod-rust-amd_"))
        .collect();
    assert_eq!(debs.len(), 1, "{debs:?}");
    let deb = &debs[0];
    let contents = run(Command::new("dpkg-deb").arg("-c").arg(deb));
    for path in ["./usr/lib/freeswitch/mod/mod_rust_amd.so", "./etc/freeswitch/autoload_configs/amd.conf.xml", "./usr/share/doc/freeswitch-mod-rust-amd/copyright"] {
        assert!(contents.contains(path), "{path} not in\n{contents}");
    }
    let fields = run(Command::new("dpkg-deb").arg("-f").arg(deb).args(["Package", "Depends", "Section"]));
    assert!(fields.contains("Package: freeswitch-mod-rust-amd"), "{fields}");
    assert!(fields.contains("Depends: libc6 (>= 2.34), libgcc-s1"), "{fields}");
    let control = std::env::temp_dir().join(format!("amd-deb-control-{}", std::process::id()));
    let unpacked = std::env::temp_dir().join(format!("amd-deb-files-{}", std::process::id()));
    run(Command::new("dpkg-deb").arg("-e").arg(deb).arg(&control));
    assert_eq!(std::fs::read_to_string(control.join("conffiles")).unwrap().trim(), "/etc/freeswitch/autoload_configs/amd.conf.xml");
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&unpacked));
    let so = unpacked.join("usr/lib/freeswitch/mod/mod_rust_amd.so");
    let symbols = run(Command::new("nm").arg("-D").arg(&so));
    assert!(symbols.contains("mod_rust_amd_module_interface"), "{symbols}");
    // Nothing beyond the C runtime a FreeSWITCH build links anyway, and glibc 2.34 at most.
    let dynamic = run(Command::new("objdump").arg("-p").arg(&so));
    for needed in dynamic.lines().filter(|l| l.trim_start().starts_with("NEEDED")) {
        let lib = needed.split_whitespace().nth(1).unwrap();
        assert!(["libc.so.6", "libm.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"].contains(&lib), "{lib}");
    }
    let versions = run(Command::new("objdump").arg("-T").arg(&so));
    let newest = versions
        .split_whitespace()
        .filter_map(|w| w.trim_matches(|c| c == '(' || c == ')').strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
        })
        .max()
        .expect("glibc versions");
    assert!(newest <= (2, 34), "needs glibc {newest:?}: the package says >= 2.34");
    loads_into_freeswitch(&so);
    let _ = std::fs::remove_dir_all(&control);
    let _ = std::fs::remove_dir_all(&unpacked);
}

/// The packaged module in a real FreeSWITCH (where one is installed): it loads, a call gets its
/// result, and FreeSWITCH shuts down cleanly with it.
fn loads_into_freeswitch(so: &Path) {
    let Some(sdk) = sdk("the_debian_package_holds_the_module_and_its_conffile (loading the packaged module)") else {
        return;
    };
    let mut fs = Fs::start(&sdk, "packaged", Options { module: Some(so.to_path_buf()), ..Options::default() });
    assert_eq!(fs.api("module_exists mod_rust_amd").trim(), "true");
    let file = crate_dir().join("tests/data/machine_short_beep.wav");
    let uuid = harness::uuid(&fs);
    let rec = fs.rec_file("packaged");
    let reply = fs.api(&format!(
        "originate {{origination_uuid={uuid},amd_tag=packaged,rec_file={},play_file={},far_tail_ms=3000}}loopback/far_play/live amd_near XML live",
        rec.display(),
        file.display()
    ));
    assert!(reply.starts_with("+OK"), "{reply}\n{}", fs.tail(40));
    let mark = fs
        .wait_mark("packaged", |_| true, std::time::Instant::now() + Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no result from the packaged module\n{}", fs.tail(60)));
    assert_eq!((mark["status"].as_str(), mark["result"].as_str()), ("machine", "beep"), "{mark:?}");
    fs.wait_no_channels(Duration::from_secs(30));
    assert_eq!(fs.amd_info(), (1000, 0));
    let st = fs.stop(Duration::from_secs(30)).expect("FreeSWITCH stops");
    assert!(st.success(), "FreeSWITCH exited with {st}\n{}", fs.tail(60));
}
