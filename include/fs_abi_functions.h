/*
 * The core functions mod_rust_amd calls, as include/fs_abi.h declares them. Kept apart so that,
 * with a FreeSWITCH SDK installed, build.rs can compile these prototypes after the SDK's own
 * <switch.h>: a C compiler rejects a redeclaration whose types differ from the real one, so
 * every prototype here is checked against the real headers (tests/layout.rs reports the result).
 */
#ifndef MOD_RUST_AMD_FS_ABI_FUNCTIONS_H
#define MOD_RUST_AMD_FS_ABI_FUNCTIONS_H

switch_loadable_module_interface_t *switch_loadable_module_create_module_interface(switch_memory_pool_t *pool, const char *name);
void *switch_loadable_module_create_interface(switch_loadable_module_interface_t *mod, switch_module_interface_name_t iname);

void switch_log_printf(switch_text_channel_t channel, const char *file, const char *func, int line,
					   const char *userdata, switch_log_level_t level, const char *fmt, ...);

switch_channel_t *switch_core_session_get_channel(switch_core_session_t *session);
char *switch_core_session_get_uuid(switch_core_session_t *session);
switch_status_t switch_core_session_get_read_impl(switch_core_session_t *session, switch_codec_implementation_t *impp);
switch_status_t switch_core_session_execute_application_async(switch_core_session_t *session, const char *app, const char *arg);
switch_core_session_t *switch_core_session_perform_locate(const char *uuid_str, const char *file, const char *func, int line);
void switch_core_session_rwunlock(switch_core_session_t *session);

const char *switch_channel_get_variable_dup(switch_channel_t *channel, const char *varname, switch_bool_t dup, int idx);
switch_status_t switch_channel_set_variable_var_check(switch_channel_t *channel, const char *varname, const char *value, switch_bool_t var_check);
int switch_channel_test_ready(switch_channel_t *channel, switch_bool_t check_ready, switch_bool_t check_media);
void switch_channel_set_flag_value(switch_channel_t *channel, switch_channel_flag_t flag, uint32_t value);
void switch_channel_clear_flag(switch_channel_t *channel, switch_channel_flag_t flag);
void switch_channel_event_set_data(switch_channel_t *channel, switch_event_t *event);

switch_status_t switch_core_media_bug_add(switch_core_session_t *session, const char *function, const char *target,
										  switch_media_bug_callback_t callback, void *user_data, time_t stop_time,
										  switch_media_bug_flag_t flags, switch_media_bug_t **new_bug);
switch_status_t switch_core_media_bug_remove_callback(switch_core_session_t *session, switch_media_bug_callback_t callback);
switch_status_t switch_core_media_bug_read(switch_media_bug_t *bug, switch_frame_t *frame, switch_bool_t fill);
switch_core_session_t *switch_core_media_bug_get_session(switch_media_bug_t *bug);

switch_status_t switch_event_create_subclass_detailed(const char *file, const char *func, int line, switch_event_t **event,
													  switch_event_types_t event_id, const char *subclass_name);
switch_status_t switch_event_add_header_string(switch_event_t *event, switch_stack_t stack, const char *header_name, const char *data);
switch_status_t switch_event_fire_detailed(const char *file, const char *func, int line, switch_event_t **event, void *user_data);
void switch_event_destroy(switch_event_t **event);
switch_status_t switch_event_reserve_subclass_detailed(const char *owner, const char *subclass_name);
switch_status_t switch_event_free_subclass_detailed(const char *owner, const char *subclass_name);

switch_xml_t switch_xml_open_cfg(const char *file_path, switch_xml_t *node, switch_event_t *params);
char *switch_xml_toxml_ex(switch_xml_t xml, switch_bool_t prn_header, switch_bool_t use_utf8_encoding);
void switch_xml_free(switch_xml_t xml);

switch_status_t switch_ivr_play_file(switch_core_session_t *session, switch_file_handle_t *fh, const char *file, switch_input_args_t *args);
switch_status_t switch_ivr_sleep(switch_core_session_t *session, uint32_t ms, switch_bool_t sync, switch_input_args_t *args);
switch_status_t switch_ivr_parse_all_events(switch_core_session_t *session);

#endif
