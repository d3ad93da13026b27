#!/bin/sh
# Fails naming every source file of gateway/ and adapters/ longer than the
# limit (issue 12: a file past 700 lines has grown past what one reader
# holds; split it by concern). Usage: source_lengths.sh ROOT [LIMIT]
set -eu
root=$1
limit=${2:-700}
cd "$root"
long=$(find gateway adapters -type f \( -name '*.cc' -o -name '*.h' -o -name '*.proto' \) \
  -exec wc -l {} + | awk -v limit="$limit" '$2 != "total" && $1 > limit')
if [ -n "$long" ]; then
  echo "source files over $limit lines:"
  echo "$long"
  exit 1
fi
echo "no source file in gateway/ or adapters/ is over $limit lines"
