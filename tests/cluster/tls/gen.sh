#!/bin/sh
# Regenerates the TEST-ONLY certificates and keys in this directory (they secure nothing;
# the tests serve a fake API server on 127.0.0.1 with them). Run from anywhere:
#   sh tests/cluster/tls/gen.sh
# Generated once with OpenSSL 3.0; valid for 100 years.
#
#   ca.crt                the cluster CA: signs server.crt and client.crt
#   server.crt/.key       the API server: SAN IP:127.0.0.1 and DNS:localhost
#   client.crt/.key       a user (CN smh-tester, O system:masters), EC key in SEC1 form
#                         ("EC PRIVATE KEY", as kind and k3s write them)
#   client-rsa.crt/.key   the same user with an RSA key in PKCS#1 form ("RSA PRIVATE KEY",
#                         as kubeadm writes them)
#   other-ca.crt          an unrelated CA, for "wrong certificate authority"
#   other-client.crt/.key a user signed by other-ca (the server does not trust it)
set -eu
cd "$(dirname "$0")"
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ec_key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }

ca() { # name subject
    ec_key "$tmp/$1.key"
    openssl req -x509 -new -key "$tmp/$1.key" -sha256 -days $days -subj "$2" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$1.crt"
}

leaf() { # name key subject ca extfile-lines
    openssl req -new -key "$2" -subj "$3" -out "$tmp/$1.csr"
    printf '%s\n' "$5" > "$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$4.crt" -CAkey "$tmp/$4.key" \
        -set_serial "0x$(openssl rand -hex 16)" -sha256 -days $days \
        -extfile "$tmp/$1.ext" -out "$1.crt"
}

client_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'

ca ca "/CN=smh-test-ca"
ca other-ca "/CN=smh-other-test-ca"

ec_key server.key
leaf server server.key "/CN=kube-apiserver" ca 'basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost'

ec_key client.key
leaf client client.key "/O=system:masters/CN=smh-tester" ca "$client_ext"

openssl genrsa -traditional -out client-rsa.key 2048
leaf client-rsa client-rsa.key "/O=system:masters/CN=smh-tester" ca "$client_ext"

ec_key other-client.key
leaf other-client other-client.key "/O=system:masters/CN=smh-tester" other-ca "$client_ext"
