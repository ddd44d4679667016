//! With a FreeSWITCH SDK installed (`pkg-config freeswitch`), checks the project's own ABI
//! declarations (include/fs_abi.h, used to build without an SDK) against the real headers:
//! the size, alignment and field offsets of every structure the module reads or fills, and the
//! value of every constant it uses; and every function prototype, by the C compiler: build.rs
//! compiles include/fs_abi_functions.h after the SDK's <switch.h>, where a redeclaration whose
//! types differ is an error, and leaves the compiler's verdict for the test below.

#[cfg(freeswitch_sdk)]
mod check {
    #[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, clippy::all)]
    mod real {
        include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
    }
    #[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, clippy::all)]
    mod ours {
        include!(concat!(env!("OUT_DIR"), "/fs_abi.rs"));
    }

    /// Offset of a field, without `offset_of!` (newer than the crate's minimum Rust).
    macro_rules! offset {
        ($t:ty, $f:ident) => {{
            let u = std::mem::MaybeUninit::<$t>::uninit();
            let base = u.as_ptr();
            // SAFETY: only the field's address is taken, nothing is read.
            let field = unsafe { std::ptr::addr_of!((*base).$f) };
            field as usize - base as usize
        }};
    }

    macro_rules! same_struct {
        ($t:ident: $($f:ident),+ $(,)?) => {{
            let mut problems = Vec::<String>::new();
            let (rs, os) = (std::mem::size_of::<real::$t>(), std::mem::size_of::<ours::$t>());
            if rs != os {
                problems.push(format!("{}: size {} in the SDK, {} in fs_abi.h", stringify!($t), rs, os));
            }
            let (ra, oa) = (std::mem::align_of::<real::$t>(), std::mem::align_of::<ours::$t>());
            if ra != oa {
                problems.push(format!("{}: alignment {} in the SDK, {} in fs_abi.h", stringify!($t), ra, oa));
            }
            $(
                let (r, o) = (offset!(real::$t, $f), offset!(ours::$t, $f));
                if r != o {
                    problems.push(format!("{}.{}: offset {} in the SDK, {} in fs_abi.h", stringify!($t), stringify!($f), r, o));
                }
            )+
            problems
        }};
    }

    macro_rules! same_constants {
        ($($c:ident),+ $(,)?) => {{
            let mut problems = Vec::<String>::new();
            $(
                if real::$c as i64 != ours::$c as i64 {
                    problems.push(format!("{} = {} in the SDK, {} in fs_abi.h", stringify!($c), real::$c as i64, ours::$c as i64));
                }
            )+
            problems
        }};
    }

    #[test]
    fn fs_abi_h_matches_the_sdk_headers() {
        let mut p = Vec::new();
        p.extend(same_struct!(switch_frame_geometry: w, h, x, y, z, M, X));
        p.extend(same_struct!(switch_frame: codec, source, packet, packetlen, extra_data, data, datalen, buflen,
            samples, rate, channels, payload, timestamp, seq, ssrc, m, flags, user_data, pmap, img, geometry));
        p.extend(same_struct!(switch_codec_implementation: codec_type, ianacode, iananame, fmtp, samples_per_second,
            actual_samples_per_second, bits_per_second, microseconds_per_packet, samples_per_packet,
            decoded_bytes_per_packet, encoded_bytes_per_packet, number_of_channels, codec_frames_per_packet, init,
            encode, decode, encode_video, decode_video, codec_control, destroy, codec_id, impl_id, modname, next));
        p.extend(same_struct!(switch_stream_handle: read_function, write_function, raw_write_function, data, end,
            data_size, data_len, alloc_len, alloc_chunk, param_event));
        p.extend(same_struct!(switch_application_interface: interface_name, application_function, long_desc,
            short_desc, syntax, flags, rwlock, refs, reflock, parent, next));
        p.extend(same_struct!(switch_api_interface: interface_name, desc, function, syntax, rwlock, refs, reflock,
            parent, next));
        p.extend(same_struct!(switch_loadable_module_function_table: switch_api_version, load, shutdown, runtime, flags));
        p.extend(same_constants!(
            SWITCH_API_VERSION, SWITCH_RECOMMENDED_BUFFER_SIZE, SWITCH_FALSE, SWITCH_TRUE, SWITCH_STATUS_SUCCESS, SWITCH_STATUS_FALSE,
            SWITCH_STATUS_GENERR, SWITCH_STATUS_BREAK, SWITCH_STATUS_NOTFOUND, SWITCH_STATUS_NOUNLOAD,
            SWITCH_LOG_DEBUG, SWITCH_LOG_INFO, SWITCH_LOG_NOTICE, SWITCH_LOG_WARNING, SWITCH_LOG_ERROR,
            SWITCH_LOG_CRIT, SWITCH_LOG_CONSOLE, SWITCH_CHANNEL_ID_LOG, SWITCH_CHANNEL_ID_SESSION,
            SWITCH_APPLICATION_INTERFACE, SWITCH_API_INTERFACE, SWITCH_ABC_TYPE_INIT, SWITCH_ABC_TYPE_READ,
            SWITCH_ABC_TYPE_CLOSE, SMBF_READ_STREAM, SMBF_ANSWER_REQ, SMBF_NO_PAUSE, CF_ANSWERED, CF_TRANSFER,
            CF_BREAK, SWITCH_EVENT_CUSTOM, SWITCH_STACK_BOTTOM, SAF_NONE, SAF_SUPPORT_NOMEDIA,
        ));
        // The enum types the module passes by value have the same representation.
        p.extend(same_size::<real::switch_status_t, ours::switch_status_t>("switch_status_t"));
        p.extend(same_size::<real::switch_log_level_t, ours::switch_log_level_t>("switch_log_level_t"));
        p.extend(same_size::<real::switch_channel_flag_t, ours::switch_channel_flag_t>("switch_channel_flag_t"));
        p.extend(same_size::<real::switch_abc_type_t, ours::switch_abc_type_t>("switch_abc_type_t"));
        p.extend(same_size::<real::switch_size_t, ours::switch_size_t>("switch_size_t"));
        assert!(p.is_empty(), "include/fs_abi.h disagrees with the FreeSWITCH SDK:\n{}", p.join("\n"));
    }

    #[test]
    fn fs_abi_function_prototypes_match_the_sdk_headers() {
        let verdict = include_str!(concat!(env!("OUT_DIR"), "/prototype_check.txt"));
        assert!(verdict.is_empty(), "include/fs_abi_functions.h disagrees with the FreeSWITCH SDK's prototypes:\n{verdict}");
    }

    fn same_size<R, O>(name: &str) -> Option<String> {
        let (r, o) = (std::mem::size_of::<R>(), std::mem::size_of::<O>());
        (r != o).then(|| format!("{name}: {r} bytes in the SDK, {o} in fs_abi.h"))
    }
}

#[cfg(not(freeswitch_sdk))]
#[test]
#[ignore = "no FreeSWITCH SDK (pkg-config freeswitch): include/fs_abi.h is checked against real headers only where they are installed"]
fn abi_declarations_match_the_sdk_headers() {}
