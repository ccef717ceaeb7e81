// The reference interpreter for the differential runners in scripts/starlark-diff: starlark-go as Debian packages
// it (golang-starlark-dev), with every dialect option on and json and struct predeclared, like clace-lite's
// `star run`. Build with build.sh (no network: GOPATH mode over /usr/share/gocode).
//
//	starlark-ref FILE           runs FILE; prints the error's backtrace to stderr and exits 1 on failure
//	starlark-ref -parse FILE... parses and resolves each FILE; prints "FILE: ok" or its first error
//	                            ("FILE:line:col: message"); one process checks many files
package main

import (
	"fmt"
	"os"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkjson"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

var predeclared = starlark.StringDict{
	"json":   starlarkjson.Module,
	"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
}

func main() {
	resolve.AllowSet = true
	resolve.AllowFloat = true
	resolve.AllowLambda = true
	resolve.AllowNestedDef = true
	resolve.AllowRecursion = true
	resolve.AllowGlobalReassign = true
	if len(os.Args) > 2 && os.Args[1] == "-parse" {
		// The packaged snapshot's Universe lacks abs and bytes, universal in current starlark-go: the static
		// check treats them as predeclared so that it follows current starlark-go.
		predeclared["abs"] = starlark.None
		predeclared["bytes"] = starlark.None
		for _, name := range os.Args[2:] {
			fmt.Println(check(name))
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: starlark-ref FILE | starlark-ref -parse FILE...")
		os.Exit(2)
	}
	thread := &starlark.Thread{Name: "main", Print: func(_ *starlark.Thread, msg string) { fmt.Println(msg) }}
	if _, err := starlark.ExecFile(thread, os.Args[1], nil, predeclared); err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			fmt.Fprintln(os.Stderr, evalErr.Backtrace())
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

// check parses and resolves one file and describes the outcome on one line.
func check(name string) string {
	src, err := os.ReadFile(name)
	if err != nil {
		return fmt.Sprintf("%s: %v", name, err)
	}
	f, err := syntax.Parse(name, src, 0)
	if err == nil {
		err = resolve.File(f, predeclared.Has, starlark.Universe.Has)
	}
	if list, ok := err.(resolve.ErrorList); ok && len(list) > 0 {
		err = list[0]
	}
	if err != nil {
		return err.Error()
	}
	return name + ": ok"
}
