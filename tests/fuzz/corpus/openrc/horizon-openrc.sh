#!/usr/bin/env bash
# Horizon-style
export OS_AUTH_URL=http://127.0.0.1:5000/v3
export OS_PROJECT_ID=abc123
export OS_PROJECT_NAME="demo project"
export OS_USER_DOMAIN_NAME='Default'
if [ -z "$OS_USER_DOMAIN_NAME" ]; then unset OS_USER_DOMAIN_NAME; fi
unset OS_TENANT_ID
unset OS_TENANT_NAME
export OS_USERNAME="alice"   # the user
echo "Please enter your OpenStack Password for project $OS_PROJECT_NAME as user $OS_USERNAME: "
read -sr OS_PASSWORD_INPUT
export OS_PASSWORD=$OS_PASSWORD_INPUT
export OS_REGION_NAME="RegionOne"
export OS_INTERFACE=public
export OS_IDENTITY_API_VERSION=3
export OS_CACERT=${OS_CACERT:-/etc/ssl/ca.pem}
