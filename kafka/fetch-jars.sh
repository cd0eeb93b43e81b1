#!/usr/bin/env bash
# Resolves Apache Kafka's runtime jars from Maven Central into kafka/.libs (git-ignored).
# Idempotent: when the stamp matches the pom, nothing is downloaded.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
libs="$here/.libs"
stamp="$here/.stamp"

command -v java >/dev/null 2>&1 || { echo "error: java not found: install a JDK/JRE 17+ (apt-get install openjdk-17-jre-headless)" >&2; exit 2; }
command -v mvn >/dev/null 2>&1 || { echo "error: mvn not found: install Maven 3.8+ (apt-get install maven)" >&2; exit 2; }

want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && compgen -G "$libs/kafka_2.13-*.jar" >/dev/null; then
  echo "kafka jars: cached ($(ls "$libs" | wc -l) jars in kafka/.libs)"
  exit 0
fi

echo "kafka jars: resolving Apache Kafka from Maven Central (one time, ~45 MB)..."
rm -rf "$libs"
start=$(date +%s)
if ! mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime >"$here/.mvn.log" 2>&1; then
  echo "error: downloading Kafka jars failed (mvn): $(grep -m1 -E 'ERROR' "$here/.mvn.log" || tail -1 "$here/.mvn.log")" >&2
  exit 2
fi
echo "$want" >"$stamp"
echo "kafka jars: $(ls "$libs" | wc -l) jars in $(( $(date +%s) - start ))s"
