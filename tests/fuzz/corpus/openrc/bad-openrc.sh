export OS_AUTH_URL=http://127.0.0.1:5000/v3
export OS_PASSWORD="never closed
