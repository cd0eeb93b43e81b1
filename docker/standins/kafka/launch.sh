#!/usr/bin/env bash
# The apache/kafka image's start rule, re-done: every KAFKA_X_Y variable becomes x.y in
# server.properties ('___' is '-', '__' is '_'), CLUSTER_ID formats the storage once, then the broker.
set -euo pipefail
props=/opt/kafka/config/server.properties
: >"$props"
skip='^KAFKA_(VERSION|HEAP_OPTS|LOG4J_OPTS|OPTS|JMX_OPTS|JVM_PERFORMANCE_OPTS|GC_LOG_OPTS|LOG4J_LOGGERS)$'
while IFS='=' read -r name value; do
  [[ "$name" =~ ^KAFKA_ ]] || continue
  [[ "$name" =~ $skip ]] && continue
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  key="${key//@/_}"
  echo "$key=$value" >>"$props"
done < <(env)
java_cp='/opt/kafka/libs/*'
java_opts=(${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m} -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties)
if [ -n "${CLUSTER_ID:-}" ]; then
  java "${java_opts[@]}" -cp "$java_cp" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$props" \
    --ignore-formatted
fi
exec java "${java_opts[@]}" -cp "$java_cp" kafka.Kafka "$props"
