#!/usr/bin/env bash
# A Docker engine of kemu's own, for CI and development: its own socket, data root and exec root, so it never
# takes over (or stops) an engine the machine already runs. The data root persists across runs, so a second CI
# run on the same machine reuses the images built by the first.
#
#   tests/docker/engine.sh start   # starts dockerd unless one already answers on the socket; prints DOCKER_HOST=...
#   tests/docker/engine.sh stop    # stops the dockerd this script started (by its pid file), and nothing else
#   tests/docker/engine.sh host    # prints the DOCKER_HOST value
#
# KEMU_DOCKER_ROOT (default ~/.cache/kemu-docker) holds everything: data/, exec/, docker.sock, dockerd.pid, dockerd.log.
set -euo pipefail

root="${KEMU_DOCKER_ROOT:-$HOME/.cache/kemu-docker}"
sock="$root/docker.sock"
pidfile="$root/dockerd.pid"
log="$root/dockerd.log"
host="unix://$sock"

answers() {
  DOCKER_HOST="$host" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

case "${1:-}" in
  host)
    echo "$host"
    ;;
  start)
    if answers; then
      echo "DOCKER_HOST=$host"
      exit 0
    fi
    for tool in dockerd containerd runc docker; do
      if ! command -v "$tool" >/dev/null 2>&1; then
        echo "engine.sh: $tool is missing: apt-get install docker.io" >&2
        exit 1
      fi
    done
    mkdir -p "$root/data" "$root/exec"
    chmod 0700 "$root"
    # A pid file left by a killed run would make dockerd refuse to start.
    if [[ -f $pidfile ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      rm -f "$pidfile"
    fi
    setsid dockerd \
      --host "$host" \
      --data-root "$root/data" \
      --exec-root "$root/exec" \
      --pidfile "$pidfile" \
      >"$log" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
      if answers; then
        echo "DOCKER_HOST=$host"
        exit 0
      fi
      sleep 1
    done
    echo "engine.sh: dockerd did not answer on $sock within 60 s; the end of $log:" >&2
    tail -20 "$log" >&2
    exit 1
    ;;
  stop)
    if [[ -f $pidfile ]]; then
      pid="$(cat "$pidfile")"
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 30); do
          kill -0 "$pid" 2>/dev/null || break
          sleep 1
        done
        if kill -0 "$pid" 2>/dev/null; then
          echo "engine.sh: dockerd $pid still runs after 30 s; see $log" >&2
          exit 1
        fi
      fi
      rm -f "$pidfile"
    fi
    ;;
  *)
    echo "usage: $0 start|stop|host" >&2
    exit 2
    ;;
esac
