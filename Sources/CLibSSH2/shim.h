#ifndef COHORT_CLIBSSH2_SHIM_H
#define COHORT_CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <openssl/crypto.h>
#include <string.h>

// OpenSSL frees its locks in an atexit handler; a program that calls exit() while an IO
// thread is still inside libssh2 (a library user's main returning mid-map) would then crash
// in that thread. Must run before anything else initialises OpenSSL (libssh2_init does).
static inline int cohort_openssl_init_without_atexit(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

// libssh2 exposes several calls only as function-like macros, which Swift cannot import.
static inline LIBSSH2_SESSION *cohort_libssh2_session_init(void *abstract) {
    return libssh2_session_init_ex(NULL, NULL, NULL, abstract);
}
static inline LIBSSH2_CHANNEL *cohort_libssh2_channel_open_session(LIBSSH2_SESSION *s) {
    return libssh2_channel_open_session(s);
}
static inline int cohort_libssh2_channel_exec(LIBSSH2_CHANNEL *c, const char *cmd) {
    return libssh2_channel_process_startup(c, "exec", 4, cmd, (unsigned int)strlen(cmd));
}
static inline int cohort_libssh2_session_disconnect(LIBSSH2_SESSION *s, const char *why) {
    return libssh2_session_disconnect_ex(s, SSH_DISCONNECT_BY_APPLICATION, why, "");
}
#endif
