# comments and blank lines are skipped

export OS_AUTH_URL="https://keystone.example.test:5000/v3/"   # trailing comment
OS_USERNAME=bob
export OS_PASSWORD='pa ss"word$HOME'
export OS_PROJECT_NAME="proj \"q\" $OS_USERNAME"
export OS_TENANT_NAME=legacy-wins-not   ;  export OS_REGION_NAME=R2
export OS_USER_DOMAIN_ID=default OS_IGNORED=1
export OS_PROJECT_DOMAIN_ID=${OS_PROJECT_DOMAIN_ID:-default}
unset OS_REGION_NAME
