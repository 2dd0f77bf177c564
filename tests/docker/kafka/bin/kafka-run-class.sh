#!/usr/bin/env bash
# Runs a Kafka class on the JVM with the image's jars, honouring the variables of Kafka's own script.
set -e
base="$(cd "$(dirname "$0")/.." && pwd)"
if [[ $# -lt 1 ]]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi
logs="${LOG_DIR:-$base/logs}"
mkdir -p "$logs" 2>/dev/null || true
log4j="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base/config/tools-log4j2.yaml}"
exec java ${KAFKA_HEAP_OPTS:--Xmx256M} ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true} \
  ${KAFKA_JMX_OPTS:-} "-Dkafka.logs.dir=$logs" $log4j ${KAFKA_OPTS:-} -cp "$base/libs/*" "$@"
