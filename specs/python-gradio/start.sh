#!/bin/sh
# Requests arrive without the app path; GRADIO_ROOT_PATH (from CL_APP_PATH) puts it into the URLs Gradio builds.
set -e
export GRADIO_ROOT_PATH="$CL_APP_PATH"
export GRADIO_SERVER_NAME=0.0.0.0
exec python "$app_file"
