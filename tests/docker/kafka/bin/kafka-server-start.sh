#!/usr/bin/env bash
if [[ $# -lt 1 ]]; then
  echo "USAGE: $0 server.properties [--override property=value]*" >&2
  exit 1
fi
base="$(cd "$(dirname "$0")/.." && pwd)"
export KAFKA_LOG4J_OPTS="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base/config/log4j2.yaml}"
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
