#!/bin/bash
# Runs as the Code Editor app starts: turns off extension auto-updates and telemetry, which would try
# to reach the public internet from a VPC-only domain and hang the editor's start.
set -euo pipefail

SETTINGS="${HOME}/sagemaker-code-editor-server-data/data/User/settings.json"
mkdir -p "$(dirname "${SETTINGS}")"
if [ ! -f "${SETTINGS}" ]; then
  cat > "${SETTINGS}" <<'JSON'
{
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none"
}
JSON
fi

echo "platform lifecycle configuration applied"
