// Command refparse is the reference side of scripts/frontend-diff.ts: for each FILE it parses and resolves the file
// with starlark-go (every dialect option on: set, float, lambda, nested def, recursion and while, global
// reassignment and top-level control; json and struct predeclared) and prints "FILE: ok" or the first error,
// "FILE:line:col: message". One process checks many files.
//
// Build it from Debian's golang-starlark-dev (no network needed):
//
//	apt-get install golang-go golang-starlark-dev
//	cd scripts/refparse && GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/refparse .
//
// Debian packages a 2021 snapshot whose Universe lacks abs and bytes; they are predeclared here so that the
// comparison follows current starlark-go, where both are universal.
package main

import (
	"fmt"
	"os"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

func main() {
	resolve.AllowSet = true
	resolve.AllowFloat = true
	resolve.AllowLambda = true
	resolve.AllowNestedDef = true
	resolve.AllowRecursion = true
	resolve.AllowGlobalReassign = true
	predeclared := map[string]bool{"json": true, "struct": true, "abs": true, "bytes": true}
	for _, name := range os.Args[1:] {
		src, err := os.ReadFile(name)
		if err != nil {
			fmt.Println(name+":", err)
			continue
		}
		f, err := syntax.Parse(name, src, 0)
		if err == nil {
			err = resolve.File(f, func(n string) bool { return predeclared[n] }, starlark.Universe.Has)
		}
		if err != nil {
			if list, ok := err.(resolve.ErrorList); ok {
				err = list[0]
			}
			fmt.Println(err)
		} else {
			fmt.Println(name + ": ok")
		}
	}
}
