#!/usr/bin/env bash
# Resolves Apache Kafka's runtime jars from Maven Central into kafka/.libs (git-ignored).
# Idempotent: when kafka/.stamp holds the pom's sha256 and the jars are there, nothing is downloaded.
# The new jar set is built aside and swapped in, so brokers already running keep their classpath.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
libs="$here/.libs"
stamp="$here/.stamp"
mvn_log="$here/.mvn.log"

command -v java >/dev/null 2>&1 || { echo "error: java not found: install a JDK/JRE 17+ (apt-get install openjdk-17-jre-headless)" >&2; exit 2; }
command -v mvn >/dev/null 2>&1 || { echo "error: mvn not found: install Maven 3.8+ (apt-get install maven)" >&2; exit 2; }

want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && compgen -G "$libs/kafka_2.13-*.jar" >/dev/null; then
  echo "kafka jars: cached ($(ls "$libs" | wc -l) jars in kafka/.libs)"
  exit 0
fi

echo "kafka jars: resolving Apache Kafka from Maven Central into kafka/.libs (one time, ~45 MB)..."
start=$(date +%s)
staging="$libs.new.$$"
trap 'rm -rf "$staging"' EXIT
if ! mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$staging" \
    -DincludeScope=runtime >"$mvn_log" 2>&1 || ! compgen -G "$staging/kafka_2.13-*.jar" >/dev/null; then
  reason="$(sed -e 's/\x1b\[[0-9;]*m//g' "$mvn_log" | grep -m1 -E '\[ERROR\] .*[a-z]' | sed -E 's/^(\[ERROR\] ?)+//' || tail -1 "$mvn_log")"
  echo "error: downloading Kafka jars failed (mvn; full log in kafka/.mvn.log): $reason" >&2
  exit 2
fi
rm -rf "$libs.old"
[ -d "$libs" ] && mv "$libs" "$libs.old"
mv "$staging" "$libs"
rm -rf "$libs.old"
echo "$want" >"$stamp"
echo "kafka jars: $(ls "$libs" | wc -l) jars in kafka/.libs ($(( $(date +%s) - start ))s)"
