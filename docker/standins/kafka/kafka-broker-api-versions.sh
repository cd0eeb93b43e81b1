#!/usr/bin/env bash
# The official image's script of this name, for the compose healthcheck.
exec java -Xmx128m -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp '/opt/kafka/libs/*' \
  org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
