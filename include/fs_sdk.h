/* With a FreeSWITCH SDK installed, the bindings are generated from its own headers. */
#include <switch.h>
