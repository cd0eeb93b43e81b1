#!/bin/sh
# Drop what only building a venv needs: pip and setuptools, C headers and sources, bundled test
# suites. Run last in each image's build stage (Dockerfile), once the project is installed.
set -eu
venv=${1:-/opt/venv}
"$venv/bin/pip" uninstall -q -y pip setuptools
find "$venv" \( -type d \( -name tests -o -name include -o -path '*/pyarrow/src' \) -prune \
  -o -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.h' \) \) -exec rm -rf {} +
