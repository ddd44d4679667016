/*
 * mod_rust_amd's own declarations of the small part of the FreeSWITCH 1.10 ABI that the
 * module uses. Used to generate the bindings when no FreeSWITCH SDK is installed; when one
 * is, the bindings come from the real headers (include/fs_sdk.h) and tests/layout.rs checks
 * every declaration here against them (sizes, field offsets, constant values, and the function
 * prototypes of fs_abi_functions.h).
 *
 * Written from the documented facts of the API (names, signatures, layouts); only what the
 * module touches is declared. Types the module only passes around are left incomplete.
 */
#ifndef MOD_RUST_AMD_FS_ABI_H
#define MOD_RUST_AMD_FS_ABI_H

#include <stdint.h>
#include <time.h>

#define SWITCH_API_VERSION 5

/* Room for any one frame of decoded audio. */
#define SWITCH_RECOMMENDED_BUFFER_SIZE 8192

/* ---- enumerations (only the values used; explicit numbers) ---- */

typedef enum {
	SWITCH_FALSE = 0,
	SWITCH_TRUE = 1
} switch_bool_t;

typedef enum {
	SWITCH_STATUS_SUCCESS = 0,
	SWITCH_STATUS_FALSE = 1,
	SWITCH_STATUS_GENERR = 9,
	SWITCH_STATUS_BREAK = 11,
	SWITCH_STATUS_NOTFOUND = 14,
	SWITCH_STATUS_NOUNLOAD = 16,
	SWITCH_STATUS_WINBREAK = 730035
} switch_status_t;

typedef enum {
	SWITCH_LOG_DEBUG = 7,
	SWITCH_LOG_INFO = 6,
	SWITCH_LOG_NOTICE = 5,
	SWITCH_LOG_WARNING = 4,
	SWITCH_LOG_ERROR = 3,
	SWITCH_LOG_CRIT = 2,
	SWITCH_LOG_CONSOLE = 0,
	SWITCH_LOG_DISABLE = -1
} switch_log_level_t;

typedef enum {
	SWITCH_CHANNEL_ID_LOG = 0,
	SWITCH_CHANNEL_ID_SESSION = 3
} switch_text_channel_t;

typedef enum {
	SWITCH_APPLICATION_INTERFACE = 4,
	SWITCH_API_INTERFACE = 5
} switch_module_interface_name_t;

typedef enum {
	SWITCH_ABC_TYPE_INIT = 0,
	SWITCH_ABC_TYPE_READ = 1,
	SWITCH_ABC_TYPE_CLOSE = 8
} switch_abc_type_t;

typedef enum {
	SMBF_READ_STREAM = (1 << 0),
	SMBF_ANSWER_REQ = (1 << 6),
	SMBF_NO_PAUSE = (1 << 10)
} switch_media_bug_flag_enum_t;
typedef uint32_t switch_media_bug_flag_t;

typedef enum {
	CF_ANSWERED = 1,
	CF_TRANSFER = 6,
	CF_BREAK = 23
} switch_channel_flag_t;

typedef enum {
	SWITCH_EVENT_CUSTOM = 0
} switch_event_types_t;

typedef enum {
	SWITCH_STACK_BOTTOM = (1 << 0)
} switch_stack_t;

typedef enum {
	SAF_NONE = 0,
	SAF_SUPPORT_NOMEDIA = (1 << 0)
} switch_application_flag_enum_t;
typedef uint32_t switch_application_flag_t;

typedef uint32_t switch_module_flag_t;
typedef uint8_t switch_payload_t;
typedef uint32_t switch_frame_flag_t;
typedef uintptr_t switch_size_t;

/* ---- types the module only holds pointers to ---- */

typedef struct switch_core_session switch_core_session_t;
typedef struct switch_channel switch_channel_t;
typedef struct switch_media_bug switch_media_bug_t;
typedef struct switch_event switch_event_t;
typedef struct switch_xml *switch_xml_t;
typedef struct fspr_pool_t switch_memory_pool_t;
typedef struct switch_loadable_module_interface switch_loadable_module_interface_t;
typedef struct switch_codec switch_codec_t;
typedef struct switch_file_handle switch_file_handle_t;
typedef struct switch_input_args switch_input_args_t;
typedef struct switch_thread_rwlock switch_thread_rwlock_t;
typedef struct switch_mutex switch_mutex_t;
typedef struct payload_map_s payload_map_t;
typedef struct switch_image switch_image_t;

/* ---- structures the module reads or fills ---- */

typedef struct switch_frame_geometry {
	int32_t w;
	int32_t h;
	int32_t x;
	int32_t y;
	int32_t z;
	int32_t M;
	int32_t X;
} switch_frame_geometry_t;

/* A frame of media. The module reads data, datalen, samples, rate and channels. */
typedef struct switch_frame {
	switch_codec_t *codec;
	const char *source;
	void *packet;
	uint32_t packetlen;
	void *extra_data;
	void *data;
	uint32_t datalen;
	uint32_t buflen;
	uint32_t samples;
	uint32_t rate;
	uint32_t channels;
	switch_payload_t payload;
	uint32_t timestamp;
	uint16_t seq;
	uint32_t ssrc;
	switch_bool_t m;
	switch_frame_flag_t flags;
	void *user_data;
	payload_map_t *pmap;
	switch_image_t *img;
	struct switch_frame_geometry geometry;
} switch_frame_t;

/* A codec implementation, as copied out by switch_core_session_get_read_impl. The module
 * reads actual_samples_per_second and number_of_channels; the callbacks are opaque here. */
typedef struct switch_codec_implementation {
	int codec_type;
	switch_payload_t ianacode;
	char *iananame;
	char *fmtp;
	uint32_t samples_per_second;
	uint32_t actual_samples_per_second;
	int bits_per_second;
	int microseconds_per_packet;
	uint32_t samples_per_packet;
	uint32_t decoded_bytes_per_packet;
	uint32_t encoded_bytes_per_packet;
	uint8_t number_of_channels;
	int codec_frames_per_packet;
	void *init;
	void *encode;
	void *decode;
	void *encode_video;
	void *decode_video;
	void *codec_control;
	void *destroy;
	uint32_t codec_id;
	uint32_t impl_id;
	char *modname;
	struct switch_codec_implementation *next;
} switch_codec_implementation_t;

typedef struct switch_stream_handle switch_stream_handle_t;
typedef uint8_t *(*switch_stream_handle_read_function_t)(switch_stream_handle_t *handle, int *len);
typedef switch_status_t (*switch_stream_handle_write_function_t)(switch_stream_handle_t *handle, const char *fmt, ...);
typedef switch_status_t (*switch_stream_handle_raw_write_function_t)(switch_stream_handle_t *handle, uint8_t *data, switch_size_t datalen);

/* Where an API command writes its output: the module only calls write_function. */
struct switch_stream_handle {
	switch_stream_handle_read_function_t read_function;
	switch_stream_handle_write_function_t write_function;
	switch_stream_handle_raw_write_function_t raw_write_function;
	void *data;
	void *end;
	switch_size_t data_size;
	switch_size_t data_len;
	switch_size_t alloc_len;
	switch_size_t alloc_chunk;
	switch_event_t *param_event;
};

typedef void (*switch_application_function_t)(switch_core_session_t *session, const char *data);
typedef switch_status_t (*switch_api_function_t)(const char *cmd, switch_core_session_t *session, switch_stream_handle_t *stream);
typedef switch_bool_t (*switch_media_bug_callback_t)(switch_media_bug_t *bug, void *user_data, switch_abc_type_t type);

/* The module fills the first six fields; the core owns the rest. */
typedef struct switch_application_interface {
	const char *interface_name;
	switch_application_function_t application_function;
	const char *long_desc;
	const char *short_desc;
	const char *syntax;
	uint32_t flags;
	switch_thread_rwlock_t *rwlock;
	int refs;
	switch_mutex_t *reflock;
	switch_loadable_module_interface_t *parent;
	struct switch_application_interface *next;
} switch_application_interface_t;

/* The module fills the first four fields; the core owns the rest. */
typedef struct switch_api_interface {
	const char *interface_name;
	const char *desc;
	switch_api_function_t function;
	const char *syntax;
	switch_thread_rwlock_t *rwlock;
	int refs;
	switch_mutex_t *reflock;
	switch_loadable_module_interface_t *parent;
	struct switch_api_interface *next;
} switch_api_interface_t;

typedef switch_status_t (*switch_module_load_t)(switch_loadable_module_interface_t **module_interface, switch_memory_pool_t *pool);
typedef switch_status_t (*switch_module_runtime_t)(void);
typedef switch_status_t (*switch_module_shutdown_t)(void);

/* What the module exports as <name>_module_interface. */
typedef struct switch_loadable_module_function_table {
	int switch_api_version;
	switch_module_load_t load;
	switch_module_shutdown_t shutdown;
	switch_module_runtime_t runtime;
	switch_module_flag_t flags;
} switch_loadable_module_function_table_t;

/* ---- core functions (resolved at load time from the process's global symbols) ---- */
#include "fs_abi_functions.h"

#endif
