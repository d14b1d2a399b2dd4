#!/usr/bin/env bash
# The Bicep CLI, restored from NuGet (Azure.Bicep.CommandLine.linux-x64, a self-contained executable) into
# .tools/nuget on first use; after that it runs offline. Linux x64 only (that is the package).
#
#   scripts/bicep.sh check            build and lint infra/bicep/main.bicep (and main.bicepparam); non-zero on any error
#   scripts/bicep.sh <bicep args...>  the CLI itself, e.g. scripts/bicep.sh build infra/bicep/main.bicep --stdout
#   scripts/bicep.sh path             print where the CLI is
#
# BICEP_VERSION overrides the pinned version (0.49.2).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${BICEP_VERSION:-0.49.2}"
packages="$root/.tools/nuget"
bicep="$packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"

if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "error: scripts/bicep.sh restores the linux-x64 Bicep CLI; on $(uname -s) $(uname -m) install Bicep yourself (az bicep install)" >&2
  exit 2
fi

if [[ ! -x "$bicep" ]]; then
  command -v dotnet >/dev/null || { echo "error: dotnet (the .NET SDK) is needed to restore the Bicep CLI from NuGet" >&2; exit 2; }
  # A private restore log: a failed restore says why, a good one stays quiet.
  log="$(mktemp)"
  if ! dotnet restore "$root/scripts/tools/bicep.csproj" --packages "$packages" -p:BicepVersion="$version" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "error: could not restore Azure.Bicep.CommandLine.linux-x64 $version from NuGet" >&2
    exit 2
  fi
  rm -f "$log"
  # Package extraction does not always keep the executable bit.
  chmod u+x "$bicep"
fi

case "${1:-}" in
  path)
    echo "$bicep"
    ;;
  check)
    # Bicep caches nothing we need and must not phone home: no registry modules are used.
    "$bicep" build "$root/infra/bicep/main.bicep" --stdout >/dev/null
    "$bicep" lint "$root/infra/bicep/main.bicep"
    if [[ -f "$root/infra/bicep/main.bicepparam" ]]; then
      "$bicep" build-params "$root/infra/bicep/main.bicepparam" --stdout >/dev/null
    fi
    echo "infra/bicep: build and lint passed (bicep $version)"
    ;;
  *)
    exec "$bicep" "$@"
    ;;
esac
