#!/bin/sh
# Streamlit in the app's Poetry environment. It serves under the app's path (strip_app=False), so it is told the
# base path from CL_APP_PATH.
set -e
poetry=/opt/poetry/bin/poetry
if [ "$app_file" = "hello" ]; then
  exec $poetry run streamlit hello --server.port="${PORT:-8501}" --server.address=0.0.0.0 --server.baseUrlPath="$CL_APP_PATH" --server.headless=true
fi
exec $poetry run streamlit run "$app_file" --server.port="${PORT:-8501}" --server.address=0.0.0.0 --server.baseUrlPath="$CL_APP_PATH" --server.headless=true
