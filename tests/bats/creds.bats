#!/usr/bin/env bats
# creds.bats - OpenStack credentials (SPEC §6 vmtp-provision): OS_*
# variables, openrc files read as text, clouds.yaml + secure.yaml; through
# creds-dump, the test driver that prints what libvmtp found (secrets as
# "<set:LENGTH>").

load helpers/common

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	cd "$BATS_TEST_TMPDIR"
}

dump() {
	env -i HOME="$HOME" PATH="$PATH" "$@"
}

@test "a Horizon openrc is read without running it; the password comes from the environment" {
	run dump OS_PASSWORD=s3cret creds-dump --env -r "$FIXTURES/creds/horizon-openrc.sh" --check
	[ "$status" -eq 0 ]
	[ "$output" = '{"auth_url":"http://127.0.0.1:5000/v3","cacert":"/etc/ssl/ca.pem","interface":"public","password":"<set:6>","project_id":"abc123","project_name":"demo project","region_name":"RegionOne","user_domain_name":"Default","username":"alice"}' ]
}

@test "without a password the check names OS_PASSWORD" {
	run -2 --separate-stderr dump creds-dump -r "$FIXTURES/creds/horizon-openrc.sh" --check
	[ "$stderr" = "creds-dump: OS_PASSWORD is not set" ]
}

@test "openrc quoting, references, comments, several assignments and unset" {
	run dump creds-dump -r "$FIXTURES/creds/quoting-openrc.sh"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.auth_url, .username, .project_name, .user_domain_id, .project_domain_id, .region_name]' <<< "$output")" = '["https://keystone.example.test:5000/v3/","bob","legacy-wins-not","default","default",null]' ]
}

@test "single quotes keep dollar signs and double quotes literally" {
	# 'pa ss"word$HOME' is 15 characters; expanded, it would not be
	run dump creds-dump -r "$FIXTURES/creds/quoting-openrc.sh"
	[ "$(jq -r .password <<< "$output")" = "<set:15>" ]
}

@test "an unterminated quote names the file and line, status 65" {
	run -65 --separate-stderr dump creds-dump -r "$FIXTURES/creds/bad-openrc.sh"
	[ "$stderr" = "creds-dump: $FIXTURES/creds/bad-openrc.sh:2: unterminated quote or \${" ]
	[[ "$stderr" != *never* ]]
}

@test "a missing openrc is a runtime failure naming it" {
	run -1 --separate-stderr dump creds-dump -r "$BATS_TEST_TMPDIR/nope"
	[ "$stderr" = "creds-dump: cannot open $BATS_TEST_TMPDIR/nope: No such file or directory" ]
}

@test "OS_* variables, with the legacy OS_TENANT_NAME" {
	run dump OS_AUTH_URL=http://k:5000/v3 OS_USERNAME=u OS_PASSWORD=p OS_TENANT_NAME=t creds-dump --env --check
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.project_name, .password]' <<< "$output")" = '["t","<set:1>"]' ]
}

@test "clouds.yaml in ~/.config/openstack merged with secure.yaml" {
	mkdir -p "$HOME/.config/openstack"
	cp "$FIXTURES/creds/clouds.yaml" "$FIXTURES/creds/secure.yaml" "$HOME/.config/openstack/"
	run dump creds-dump --cloud minicloud --check
	[ "$status" -eq 0 ]
	[ "$output" = '{"auth_url":"http://127.0.0.1:5000/v3","insecure":"true","interface":"public","password":"<set:16>","project_domain_name":"Default","project_name":"demo","region_name":"RegionOne","user_domain_name":"Default","username":"member"}' ]
}

@test "./clouds.yaml wins over ~/.config/openstack, OS_CLIENT_CONFIG_FILE over both" {
	mkdir -p "$HOME/.config/openstack"
	printf 'clouds:\n  c:\n    auth:\n      auth_url: http://home\n' > "$HOME/.config/openstack/clouds.yaml"
	printf 'clouds:\n  c:\n    auth:\n      auth_url: http://cwd\n' > clouds.yaml
	printf 'clouds:\n  c:\n    auth:\n      auth_url: http://env\n' > other.yaml
	run dump creds-dump --cloud c
	[ "$(jq -r .auth_url <<< "$output")" = http://cwd ]
	run dump OS_CLIENT_CONFIG_FILE="$PWD/other.yaml" creds-dump --cloud c
	[ "$(jq -r .auth_url <<< "$output")" = http://env ]
}

@test "an application credential from clouds.yaml + secure.yaml" {
	cp "$FIXTURES/creds/clouds.yaml" "$FIXTURES/creds/secure.yaml" .
	run dump creds-dump --cloud appcred --check
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.auth_type, .app_cred_id, .app_cred_secret]' <<< "$output")" = '["v3applicationcredential","0123abcd","<set:10>"]' ]
}

@test "an application credential without its secret names the variable" {
	run -2 --separate-stderr dump OS_AUTH_URL=http://k OS_AUTH_TYPE=v3applicationcredential OS_APPLICATION_CREDENTIAL_ID=x creds-dump --env --check
	[ "$stderr" = "creds-dump: OS_APPLICATION_CREDENTIAL_SECRET is not set" ]
}

@test "token auth needs OS_TOKEN and a project" {
	run -2 --separate-stderr dump OS_AUTH_URL=http://k OS_AUTH_TYPE=v3token creds-dump --env --check
	[ "$stderr" = "creds-dump: OS_TOKEN is not set" ]
	run dump OS_AUTH_URL=http://k OS_AUTH_TYPE=token OS_TOKEN=t OS_PROJECT_ID=p creds-dump --env --check
	[ "$status" -eq 0 ]
}

@test "an unknown auth type is named" {
	run -2 --separate-stderr dump OS_AUTH_URL=http://k OS_AUTH_TYPE=saml2 creds-dump --env --check
	[ "$stderr" = "creds-dump: OS_AUTH_TYPE 'saml2' is not one of password, v3applicationcredential, v3token" ]
}

@test "no auth URL at all is named first" {
	run -2 --separate-stderr dump creds-dump --env --check
	[ "$stderr" = "creds-dump: OS_AUTH_URL is not set" ]
}

@test "a cloud that clouds.yaml lacks is named with the file" {
	cp "$FIXTURES/creds/clouds.yaml" .
	run -1 --separate-stderr dump creds-dump --cloud nowhere
	[ "$stderr" = "creds-dump: ./clouds.yaml: no cloud named 'nowhere'" ]
}

@test "no clouds.yaml anywhere is said plainly" {
	run -1 --separate-stderr dump creds-dump --cloud c
	[[ "$stderr" == "creds-dump: cloud 'c' asked for, but no clouds.yaml found"* ]]
}

@test "a clouds.yaml that is not YAML names its line" {
	printf 'clouds:\n  c: [\n' > clouds.yaml
	run -65 --separate-stderr dump creds-dump --cloud c
	[[ "$stderr" == "creds-dump: ./clouds.yaml:"*": not YAML: "* ]]
}
