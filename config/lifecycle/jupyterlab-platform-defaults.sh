#!/bin/bash
# Runs as the JupyterLab app starts. The domain is VPC-only with no internet path, so anything that
# would reach the public internet at start-up is turned off rather than left to time out.
set -euo pipefail

# The extension manager lists and installs extensions from the public internet.
mkdir -p "${HOME}/.jupyter/labconfig"
cat > "${HOME}/.jupyter/labconfig/page_config.json" <<'JSON'
{"disabledExtensions": {"@jupyterlab/extensionmanager-extension": true}}
JSON

# The news feed and update check poll the internet on every start.
mkdir -p "${HOME}/.jupyter/lab/user-settings/@jupyterlab/apputils-extension"
cat > "${HOME}/.jupyter/lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings" <<'JSON'
{"checkForUpdates": false, "fetchNews": "false"}
JSON

echo "platform lifecycle configuration applied"
