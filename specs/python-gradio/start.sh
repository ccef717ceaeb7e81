#!/bin/sh
# Gradio serves under the app's path (strip_app=False): GRADIO_ROOT_PATH comes from CL_APP_PATH.
set -e
export GRADIO_ROOT_PATH="$CL_APP_PATH"
export GRADIO_SERVER_NAME=0.0.0.0
exec python "$app_file"
