#!/bin/sh
# mk/embed.sh - turn files into C strings: share/html/report.css becomes
# `const char asset_report_css[]`.  Used for the report template.
set -eu
for f in "$@"; do
	name=asset_$(basename "$f" | tr -c 'A-Za-z0-9\n' '_')
	printf 'const char %s[] =\n' "$name"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$f"
	printf '\t"";\n'
done
