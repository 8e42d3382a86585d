package graphdb

/*
#include <stdlib.h>
#include "graphdb.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"time"
)

// buildParams converts params into a library parameter set (nil for none); the caller
// frees it with graphdb_params_free.
//
// Accepted values: nil, bool, every integer type (uint64 up to MaxInt64), float32/64,
// string, Temporal, time.Time (a zoned datetime), time.Duration (a duration), json.Number,
// pointers to these (nil: null), and slices, arrays and string-keyed maps of them, nested
// to any depth. Nodes, relationships and paths cannot be parameters.
func buildParams(params map[string]any) (*C.graphdb_params, error) {
	if len(params) == 0 {
		return nil, nil
	}
	var p *C.graphdb_params
	if st := Status(C.graphdb_params_new(&p)); st != StatusOK {
		return nil, newError(st, "cannot create a parameter set")
	}
	for name, v := range params {
		if err := setParam(p, name, v); err != nil {
			C.graphdb_params_free(p)
			return nil, err
		}
	}
	return p, nil
}

func setParam(p *C.graphdb_params, name string, v any) error {
	cname, err := cString(name, "parameter name")
	if err != nil {
		return err
	}
	defer freeC(cname)
	v, err = normalize(v)
	if err != nil {
		return paramError(name, err)
	}
	var st C.graphdb_status
	switch x := v.(type) {
	case nil:
		st = C.graphdb_params_set_null(p, cname)
	case bool:
		st = C.graphdb_params_set_bool(p, cname, C.bool(x))
	case int64:
		st = C.graphdb_params_set_int64(p, cname, C.int64_t(x))
	case float64:
		st = C.graphdb_params_set_double(p, cname, C.double(x))
	case string:
		// C.CString copies every byte, NULs included; the _n setter takes the length, so
		// the library itself judges the bytes (invalid UTF-8: INVALID_ARGUMENT).
		cs := C.CString(x)
		st = C.graphdb_params_set_string_n(p, cname, cs, C.size_t(len(x)))
		freeC(cs)
	default:
		text, err := encodeJSON(nil, v)
		if err != nil {
			return paramError(name, err)
		}
		cj := C.CString(string(text))
		st = C.graphdb_params_set_json(p, cname, cj)
		freeC(cj)
	}
	if st != C.GRAPHDB_OK {
		msg := "rejected"
		if m := C.graphdb_params_error_message(p); m != nil {
			msg = C.GoString(m)
		}
		return newError(Status(st), fmt.Sprintf("parameter $%s: %s", name, msg))
	}
	return nil
}

func paramError(name string, err error) error {
	if e, ok := err.(*Error); ok {
		return newError(e.Code, fmt.Sprintf("parameter $%s: %s", name, e.Message))
	}
	return newError(StatusInvalidArgument, fmt.Sprintf("parameter $%s: %v", name, err))
}

// temporalJSON is the tagged JSON form of the Go temporal types.
func temporalOf(v any) (Temporal, bool) {
	switch x := v.(type) {
	case Temporal:
		return x, true
	case time.Time:
		return Temporal{Kind: KindDateTime, Text: x.Format(time.RFC3339Nano)}, true
	case time.Duration:
		return Temporal{Kind: KindDuration, Text: isoDuration(x)}, true
	}
	return Temporal{}, false
}

// isoDuration writes d as PT<seconds>S with the fraction it needs, e.g. PT-1.5S.
func isoDuration(d time.Duration) string {
	sign := ""
	u := uint64(d)
	if d < 0 {
		sign, u = "-", uint64(-d) // -MinInt64 wraps to itself, read back unsigned: exact
	}
	secs, nanos := u/1e9, u%1e9
	if nanos == 0 {
		return fmt.Sprintf("PT%s%dS", sign, secs)
	}
	frac := fmt.Sprintf("%09d", nanos)
	for frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	return fmt.Sprintf("PT%s%d.%sS", sign, secs, frac)
}

// jsonNumber converts a json.Number to int64 when it is an integer, else float64.
func jsonNumber(n json.Number) (any, error) {
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, newError(StatusInvalidArgument, "bad number "+n.String())
	}
	return f, nil
}
