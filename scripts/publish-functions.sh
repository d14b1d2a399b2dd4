#!/usr/bin/env bash
# Publishes the Functions app (Release) into a folder: the exact step the Dockerfile's publish stage runs, so a
# test can run it on a machine without a Docker engine.
#
#   scripts/publish-functions.sh OUTPUT_DIR
set -euo pipefail

out="${1:?usage: scripts/publish-functions.sh OUTPUT_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# No apphost: the Functions host starts the worker with dotnet (worker.config.json).
dotnet publish "$root/src/Floyo.Functions/Floyo.Functions.csproj" -c Release -o "$out" -p:UseAppHost=false --nologo
