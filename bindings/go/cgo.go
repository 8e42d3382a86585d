package graphdb

// The defaults below find the header in the repository and the library where
// `cargo build --release` puts it, so `go test` works in-tree. To use another build of the
// library, set CGO_LDFLAGS="-L/dir -Wl,-rpath,/dir" (and CGO_CFLAGS="-I/include/dir" for
// another header): the go command puts the environment's flags before these, so the linker
// and the loader look in /dir first. test.sh does this with GRAPHDB_LIB_DIR.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -Wl,-rpath,${SRCDIR}/../../target/release -lgraphdb
#include <stdlib.h>
#include "graphdb.h"
*/
import "C"

import (
	"strings"
	"unsafe"
)

// cString copies s into C memory for a function that takes a NUL-terminated string.
// An embedded NUL would silently cut the string short there, so it is refused instead.
// The caller frees the result with C.free.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, newError(StatusInvalidArgument, what+" contains a NUL byte")
	}
	return C.CString(s), nil
}

func freeC(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// goStringN copies a borrowed (pointer, length) string out of the library before the
// handle that owns it moves on.
func goStringN(p *C.char, n C.size_t) string {
	if p == nil || n == 0 {
		return ""
	}
	return C.GoStringN(p, C.int(n))
}

// Version is the library's version, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.graphdb_version()) }

// ABIVersion is the ABI version the library was built with; this package was written
// against HeaderABIVersion.
func ABIVersion() uint32 { return uint32(C.graphdb_abi_version()) }

// HeaderABIVersion is the GRAPHDB_ABI_VERSION of the header this package was compiled with.
const HeaderABIVersion = uint32(C.GRAPHDB_ABI_VERSION)
