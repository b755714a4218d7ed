// The system's zlib, for inflating deflated zip entries from a memory map (zlib1g-dev on Debian).
#include <zlib.h>
