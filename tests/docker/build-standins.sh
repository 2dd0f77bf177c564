#!/usr/bin/env bash
# Builds local stand-ins of the images that docker-compose.yml and the test fixtures name, under the same names and
# tags, when the engine does not have them and no registry can be reached. Each stand-in runs the same software the
# project already fetches for its embedded services (the Kafka 4.1.1 jars from Maven Central, MinIO from its Go
# module pin) behind the same configuration interface (KAFKA_* variables, `minio server`, `mc`). Every stand-in
# carries the label org.opencontainers.image.description="kemu local stand-in ..." (docs/docker.md).
#
# Idempotent: an image already present is reused, one a registry gives is pulled (the real image: on a machine that
# reaches Docker Hub and quay.io nothing is built); only what neither has is built. Needs DOCKER_HOST (or the default socket) to reach an engine, debootstrap and go on the host,
# and `kemu services provision` done (it fetches the Kafka jars and builds MinIO into ~/.cache/kemu).
#
#   tests/docker/build-standins.sh            # build what is missing
#   tests/docker/build-standins.sh --list     # print the image names it provides, one a line
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# The names the compose file and tests/support/endpoints.py use (a unit test holds the three lists together).
KAFKA_IMAGE="apache/kafka:4.1.1"
MINIO_IMAGE="quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
MC_IMAGE="quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z"
PYTHON_IMAGE="python:3.11.11-slim-bookworm"
BASE_IMAGE="kemu-standin/debian:bookworm-minbase"

KAFKA_VERSION="4.1.1"
# The same module pin as emulator/settings.py MINIO_MODULE_VERSION.
MINIO_MODULE_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
# mc's RELEASE.2025-08-13T08-35-41Z is commit 7394ce0dd2a8; the Go proxy serves it by this pseudo-version only.
MC_MODULE_VERSION="v0.0.0-20250813083541-7394ce0dd2a8"

if [[ ${1:-} == --list ]]; then
  printf '%s\n' "$KAFKA_IMAGE" "$MINIO_IMAGE" "$MC_IMAGE" "$PYTHON_IMAGE"
  exit 0
fi

cache="${KEMU_SERVICES__CACHE_DIR:-$HOME/.cache/kemu}"
work="${KEMU_DOCKER_ROOT:-$HOME/.cache/kemu-docker}/build"
# Each step has a bound, so a hung download fails CI with a message instead of eating its budget.
STEP_TIMEOUT="${KEMU_STANDIN_STEP_TIMEOUT:-900}"
DESCRIPTION="kemu local stand-in, built by tests/docker/build-standins.sh from the same software because no container registry is reachable; not the upstream image"
mkdir -p "$work"

say() { echo "[stand-ins $(date +%H:%M:%S)] $*"; }
present() { docker image inspect "$1" >/dev/null 2>&1; }
# An image is had when present, or when a registry gives it (a user's machine: the real image, nothing built).
have() {
  present "$1" && return 0
  [[ $1 == kemu-standin/* ]] && return 1
  timeout 600 docker pull --quiet "$1" >/dev/null 2>&1 && say "$1: pulled from its registry"
}

# A build context of our own: the Dockerfile and scripts from tests/docker/<name>, plus what the step adds.
context() {
  local dir="$work/context-$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -R "$here/$1/." "$dir/"
  echo "$dir"
}

build() {
  local image="$1" dir="$2"
  timeout "$STEP_TIMEOUT" docker build --quiet --label "org.opencontainers.image.description=$DESCRIPTION" --label "org.opencontainers.image.source=kemu tests/docker" \
    -t "$image" "$dir" >/dev/null
}

debian_mirror() {
  # The mirror this machine's apt uses; containers reach it over plain HTTP.
  local uri
  uri="$(grep -rhoE '^URIs: *http[^ ]*/debian/?$|^deb +http[^ ]*/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | head -1 | sed -E 's/^URIs: *//; s/^deb +//; s/ +$//')" || true
  echo "${uri:-http://deb.debian.org/debian}"
}

base() {
  present "$BASE_IMAGE" && return
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
  local root="$work/rootfs"
  rm -rf "$root"
  say "debootstrap of Debian bookworm (minbase) from $(debian_mirror)"
  timeout "$STEP_TIMEOUT" debootstrap --variant=minbase bookworm "$root" "$(debian_mirror)" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import --change "LABEL org.opencontainers.image.description=\"$DESCRIPTION\"" --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

go_binary() {
  # go install MODULE@VERSION into $work/<name>-<version>/<name>; reused when present.
  local name="$1" module="$2" version="$3" out="$work/$1-$3"
  if [[ ! -x $out/$name ]]; then
    command -v go >/dev/null || { echo "go is missing: it builds $name for the stand-in images" >&2; exit 1; }
    say "building $name $version with Go (once)" >&2
    mkdir -p "$out/partial"
    GOBIN="$out/partial" CGO_ENABLED=0 GOFLAGS="-buildvcs=false -trimpath" \
      timeout "$STEP_TIMEOUT" go install "$module@$version" >"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; exit 1; }
    mv "$out/partial/$name" "$out/$name"
  fi
  echo "$out/$name"
}

kafka() {
  have "$KAFKA_IMAGE" && return
  local lib="$cache/kafka/$KAFKA_VERSION/lib"
  [[ -f $lib/.complete ]] || { echo "Kafka's jars are not in $lib: run .venv/bin/kemu services provision" >&2; exit 1; }
  base
  say "building $KAFKA_IMAGE (Kafka $KAFKA_VERSION jars from $lib)"
  local dir
  dir="$(context kafka)"
  mkdir -p "$dir/libs"
  cp "$lib"/*.jar "$dir/libs/"
  build "$KAFKA_IMAGE" "$dir"
}

minio() {
  have "$MINIO_IMAGE" && return
  local server="$cache/minio/$MINIO_MODULE_VERSION/bin/minio" client dir
  [[ -x $server ]] || { echo "MinIO is not built in $server: run .venv/bin/kemu services provision" >&2; exit 1; }
  client="$(go_binary mc github.com/minio/mc "$MC_MODULE_VERSION")"
  base
  say "building $MINIO_IMAGE (MinIO $MINIO_MODULE_VERSION, mc $MC_MODULE_VERSION)"
  dir="$(context minio)"
  cp "$server" "$client" "$dir/"
  build "$MINIO_IMAGE" "$dir"
}

mc() {
  have "$MC_IMAGE" && return
  local client dir
  client="$(go_binary mc github.com/minio/mc "$MC_MODULE_VERSION")"
  base
  say "building $MC_IMAGE (mc $MC_MODULE_VERSION)"
  dir="$(context mc)"
  cp "$client" "$dir/"
  build "$MC_IMAGE" "$dir"
}

python() {
  have "$PYTHON_IMAGE" && return
  base
  say "building $PYTHON_IMAGE (Debian's python3.11 in a venv at /usr/local)"
  local dir
  dir="$(context python)"
  # pip inside the image must trust what this machine trusts: the network may re-sign PyPI's TLS.
  cp /etc/ssl/certs/ca-certificates.crt "$dir/host-ca-certificates.crt"
  build "$PYTHON_IMAGE" "$dir"
}

started=$(date +%s)
docker version --format '{{.Server.Version}}' >/dev/null || { echo "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset})" >&2; exit 1; }
kafka
minio
mc
python
for image in "$KAFKA_IMAGE" "$MINIO_IMAGE" "$MC_IMAGE" "$PYTHON_IMAGE"; do
  label="$(docker image inspect --format '{{index .Config.Labels "org.opencontainers.image.description"}}' "$image")"
  kind="from its registry"
  [[ $label == "kemu local stand-in"* ]] && kind="local stand-in"
  say "$image: $kind, $(docker image inspect --format '{{.Id}}' "$image" | cut -c8-19)"
done
say "done in $(( $(date +%s) - started )) s"
