/* Long-term identities (tls.h): an EC P-256 key and a self-signed
 * certificate in one private PEM file, made on first use. P-256 rather than
 * Ed25519 because Windows' Schannel, which the Windows ICD will use, accepts
 * it for TLS 1.3. The certificate is never checked against a CA: peers pin
 * its SHA-256 fingerprint, so its names and dates are for display only. */
#include "transport/tls_internal.h"
#include "transport/trust.h"
#include "transport/platform/log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A pinned certificate does not need to expire: 100 years. */
#define CERT_DAYS 36500

void tether_tls_log_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t used = 0;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[160];
		ERR_error_string_n(e, one, sizeof(one));
		if (used + 3 < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "; " : "", one);
	}
	if (!buf[0])
		snprintf(buf, len, "no OpenSSL error recorded");
}

int tether_tls_cert_fingerprint(X509 *cert, struct tether_fingerprint *out)
{
	unsigned int n = 0;
	if (!X509_digest(cert, EVP_sha256(), out->b, &n) || n != TETHER_FINGERPRINT_SIZE)
		return -EPROTO;
	return 0;
}

/* The subject's common name: printable ASCII, as a peer would show it. */
static void clean_name(const char *in, char *out, size_t len)
{
	size_t n = 0;
	for (; in && in[n] && n + 1 < len; n++)
		out[n] = in[n] >= 0x20 && in[n] <= 0x7e ? in[n] : '?';
	out[n] = '\0';
	if (!n)
		snprintf(out, len, "tether");
}

static X509 *make_certificate(EVP_PKEY *key, const char *common_name)
{
	char cn[64];
	clean_name(common_name, cn, sizeof(cn));
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	bool ok = x && serial && X509_set_version(x, X509_VERSION_3) &&
		  BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -24 * 3600) &&
		  X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL) &&
		  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
					     (const unsigned char *)cn, -1, -1, 0) &&
		  X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_set_pubkey(x, key) &&
		  X509_sign(x, key, EVP_sha256()) > 0;
	BN_free(serial);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Writes a new identity to a private temporary file in @dir and links it in
 * as @path: if another process got there first, theirs stays. */
static int create_identity(const char *dir, const char *path, const char *common_name)
{
	char tmp[TETHER_PATH_MAX], why[300];
	uint8_t rnd[6];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return TETHER_ERR("tls", -EIO, "no random bytes for a new identity");
	snprintf(tmp, sizeof(tmp), "%s/.identity-%02x%02x%02x%02x%02x%02x.tmp", dir, rnd[0], rnd[1], rnd[2], rnd[3],
		 rnd[4], rnd[5]);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? make_certificate(key, common_name) : NULL;
	if (!cert) {
		tether_tls_log_errors(why, sizeof(why));
		EVP_PKEY_free(key);
		return TETHER_ERR("tls", -ENOMEM, "cannot make a key and certificate: %s", why);
	}
	int err = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
	} else {
		if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) || !PEM_write_X509(f, cert) ||
		    fflush(f) || fsync(fileno(f)))
			err = -EIO;
		if (fclose(f) && !err)
			err = -EIO;
	}
	EVP_PKEY_free(key);
	X509_free(cert);
	if (!err && link(tmp, path) && errno != EEXIST)
		err = -errno;
	unlink(tmp);
	if (err)
		return TETHER_ERR("tls", err, "cannot write a new identity in %s: %s", dir, strerror(-err));
	tether_fsync_dir(dir);
	return 0;
}

/* Opens @path for reading if it is a private regular file of ours. */
static int open_private(const char *path, FILE **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = TETHER_ERR("tls", -EPROTO, "%s is not a regular file", path);
	else if (st.st_uid != geteuid())
		err = TETHER_ERR("tls", -EPERM, "%s belongs to uid %u, not to us (uid %u): refusing its key", path,
				 (unsigned)st.st_uid, (unsigned)geteuid());
	else if (st.st_mode & 077)
		err = TETHER_ERR("tls", -EPERM,
				 "%s is readable by others (mode %04o): its private key must be private; "
				 "run chmod 600 %s",
				 path, (unsigned)(st.st_mode & 07777), path);
	FILE *f = err ? NULL : fdopen(fd, "r");
	if (!f) {
		close(fd);
		return err ? err : -ENOMEM;
	}
	*out = f;
	return 0;
}

static int read_identity(const char *path, struct tether_tls_identity **out)
{
	FILE *f = NULL;
	int err = open_private(path, &f);
	if (err)
		return err;
	struct tether_tls_identity *id = calloc(1, sizeof(*id));
	if (id) {
		id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		id->cert = id->key ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	}
	fclose(f);
	if (!id)
		return -ENOMEM;
	if (!id->cert || X509_check_private_key(id->cert, id->key) != 1 ||
	    tether_tls_cert_fingerprint(id->cert, &id->fingerprint)) {
		char why[300];
		tether_tls_log_errors(why, sizeof(why));
		tether_tls_identity_free(id);
		return TETHER_ERR("tls", -EPROTO, "%s does not hold a matching key and certificate: %s", path, why);
	}
	*out = id;
	return 0;
}

int tether_tls_identity_load(const char *dir, const char *common_name, bool create,
			     struct tether_tls_identity **out)
{
	char path[TETHER_PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, TETHER_IDENTITY_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int err = read_identity(path, out);
	if (err != -ENOENT || !create)
		return err;
	err = tether_private_dir_create(dir);
	if (!err)
		err = create_identity(dir, path, common_name);
	if (err)
		return err;
	err = read_identity(path, out);
	if (!err) {
		char fp[TETHER_FINGERPRINT_TEXT_SIZE];
		tether_fingerprint_format(&(*out)->fingerprint, fp);
		TETHER_LOGI("tls", "new identity in %s: %s", dir, fp);
	}
	return err;
}

void tether_tls_identity_free(struct tether_tls_identity *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	free(id);
}

const struct tether_fingerprint *tether_tls_identity_fingerprint(const struct tether_tls_identity *id)
{
	return &id->fingerprint;
}
