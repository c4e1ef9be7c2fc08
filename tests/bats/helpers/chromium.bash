# chromium.bash - render an HTML file to a PNG with headless Chromium
# (Debian package chromium), offline and with a throw-away profile.
#
#   load helpers/chromium
#   render_png FILE.html FILE.png [WIDTH,HEIGHT]

render_png() {
	local profile
	profile="$(mktemp -d "$BATS_TEST_TMPDIR/chromium.XXXXXX")"
	timeout 90 chromium --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$profile" --screenshot="$2" \
		--window-size="${3:-1280,1600}" "file://$1" >/dev/null 2>&1
	local rc=$?
	rm -rf "$profile"
	return $rc
}

# png_colours FILE.png [#RRGGBB ...]: "WIDTH HEIGHT DISTINCT", then per
# colour "#RRGGBB PIXELS".
png_colours() {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/helpers/png-colours" "$@"
}
