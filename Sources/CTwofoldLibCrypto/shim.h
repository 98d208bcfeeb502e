#ifndef TWOFOLD_LIBCRYPTO_SHIM_H
#define TWOFOLD_LIBCRYPTO_SHIM_H

/* The block functions (SHA1_Transform and friends) are marked deprecated in
 * OpenSSL 3 in favour of EVP, but EVP allocates a context per call. They stay
 * exported, and they are exactly what HMAC with precomputed states needs. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

#endif
