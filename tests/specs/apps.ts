/**
 * Small real apps for the bundled specs, each of which shows in its answer the path it routed on and the links it
 * builds, so that one request proves the app knows where it is mounted.
 */

/** A Flask app: the index links to an item with url_for; /go redirects there; items echo what Flask saw. */
export const FLASK_APP = `from flask import Flask, redirect, request, url_for

app = Flask(__name__)


@app.route("/")
def index():
    return f'index; next: <a href="{url_for("item", n=7)}">item</a>\\n'


@app.route("/items/<int:n>")
def item(n):
    return f"item {n} at {request.path} under {request.script_root!r}\\n"


@app.route("/go")
def go():
    return redirect(url_for("item", n=3))
`;

/**
 * A plain ASGI callable (no framework: Debian's FastAPI does not satisfy its own Starlette pin under pip): it
 * routes on the path below root_path and builds its links from root_path, as Starlette does.
 */
export const ASGI_APP = `async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    root = scope.get("root_path", "")
    path = scope["path"]
    # Servers differ on whether path includes root_path; route on the part below it either way.
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root):] or "/"
    if path == "/":
        status, body = 200, f'index; next: <a href="{root}/items/7">item</a>\\n'
    elif path.startswith("/items/"):
        status, body = 200, f"item {path.rsplit('/', 1)[1]} under {root!r}\\n"
    else:
        status, body = 404, f"no route for {path}\\n"
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/html; charset=utf-8")]})
    await send({"type": "http.response.body", "body": body.encode()})
`;

/** A Go module with no dependencies, so no go.sum: the spec's empty go.sum stands in for it. */
export const GO_MOD = "module example.com/hello\n\ngo 1.19\n";

export const GO_MAIN = `package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "go at %s; app path %q; args %q\\n", r.URL.Path, os.Getenv("CL_APP_PATH"), os.Args[1:])
	})
	if err := http.ListenAndServe(":"+os.Getenv("PORT"), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`;
