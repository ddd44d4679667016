/*
 * The test host's variadic core functions, which stable Rust cannot define: each formats its
 * arguments and hands the text to the Rust side of the host (tests/host/core.rs).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

extern void host_log(int channel, const char *file, const char *func, int line, const char *userdata, int level,
                     const char *text);
extern int host_stream_write(void *handle, const char *text);

void switch_log_printf(int channel, const char *file, const char *func, int line, const char *userdata, int level,
                       const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0) {
		text = NULL;
	}
	va_end(ap);
	host_log(channel, file, func, line, userdata, level, text ? text : fmt);
	free(text);
}

int host_stream_write_function(void *handle, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	int status;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0) {
		text = NULL;
	}
	va_end(ap);
	status = host_stream_write(handle, text ? text : fmt);
	free(text);
	return status;
}
