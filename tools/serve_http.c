/*
 * `serve --http DIR`: HTTP/1.1 GET and HEAD of files beneath DIR, one
 * request per connection ("Connection: close").
 *
 * What a client may not do, and how it is prevented:
 *   - leave DIR: the target is percent-decoded and split into names; a
 *     ".." name is refused (400) rather than resolved. The file is opened
 *     relative to DIR's descriptor with openat2(RESOLVE_BENEATH |
 *     RESOLVE_NO_MAGICLINKS): a symbolic link may point elsewhere inside
 *     DIR but never out of it (EXDEV: 403), and /proc's magic links are
 *     not followed. Where openat2 is missing (Linux < 5.6, or a seccomp
 *     filter), the path is walked one name at a time with O_NOFOLLOW, so
 *     no symbolic link is followed at all (403).
 *   - block the server: the open is O_NONBLOCK | O_NOCTTY, so a FIFO with
 *     no writer or a terminal cannot stall it, and anything but a regular
 *     file (checked with fstat on the open descriptor, not on a name that
 *     could change meanwhile) is refused (403).
 *   - send a head without end: serve.c takes at most HTTP_HEAD_MAX bytes
 *     (then 431) within --request-timeout (then 408).
 */
#define _GNU_SOURCE     /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "serve.h"

int http_root_open(const char *dir)
{
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

size_t http_head_len(const char *buf, size_t len, size_t from)
{
	for (size_t i = from; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The request target t[0..n) as a path relative to the root, into rel:
 * query and fragment cut off, percent-decoded, empty and "." names
 * dropped, "index.html" added to a directory. 0, or the HTTP status that
 * refuses it (400: not absolute, bad escape, NUL, ".."; 404: too long).
 */
static int target_path(const char *t, size_t n, char *rel, size_t cap)
{
	char dec[HTTP_HEAD_MAX];
	size_t k = 0, o = 0;
	bool dir;

	if (!n || t[0] != '/')
		return 400;
	for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
		int c = (unsigned char)t[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(t[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(t[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return 400;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0')
			return 400;
		dec[k++] = (char)c;
	}
	dec[k] = '\0';
	dir = dec[k - 1] == '/';
	for (char *p = dec, *name; (name = strsep(&p, "/"));) {
		size_t len = strlen(name);
		if (!len || !strcmp(name, "."))
			continue;
		if (!strcmp(name, ".."))
			return 400;
		if (o + len + 2 > cap)
			return 404;
		if (o)
			rel[o++] = '/';
		memcpy(rel + o, name, len);
		o += len;
	}
	rel[o] = '\0';
	if (!o || dir) {
		static const char idx[] = "index.html";
		if (o + sizeof(idx) + 1 > cap)
			return 404;
		if (o)
			rel[o++] = '/';
		memcpy(rel + o, idx, sizeof(idx));
	}
	return 0;
}

/* Without openat2: one name at a time, never through a symbolic link. */
static int open_walk(int root, char *rel, int flags)
{
	int dfd = root, fd, e;
	char *p = rel, *name;

	while ((name = strsep(&p, "/")) && p) {
		fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		e = errno;
		if (dfd != root)
			close(dfd);
		if (fd < 0) {
			errno = e == ENOTDIR ? ELOOP : e;  /* a link, or a file */
			return -1;
		}
		dfd = fd;
	}
	fd = openat(dfd, name, flags | O_NOFOLLOW);
	e = errno;
	if (dfd != root)
		close(dfd);
	errno = e;
	return fd;
}

/* Opens rel beneath root (see the top of the file). -1 with errno. */
static int open_beneath(int root, char *rel)
{
	static int no_openat2 = -1;
	const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

	if (no_openat2 < 0) {
		const char *env = getenv("HANDSHAKE_NO_OPENAT2");
		no_openat2 = env && *env && strcmp(env, "0");
	}
	if (!no_openat2) {
		struct open_how how = {
			.flags = (uint64_t)flags,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};
		long fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
		/* Missing or filtered: walk from now on, and say so once. */
		fprintf(stderr, "serve: openat2: %s: symbolic links in DIR are not "
			"followed\n", strerror(errno));
		no_openat2 = 1;
	}
	return open_walk(root, rel, flags);
}

static int errno_status(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return 404;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 503;
	default:         /* EXDEV, ELOOP, EACCES, EPERM, ...: refused */
		return 403;
	}
}

void http_handle(int root, const char *req, http_reply *r)
{
	char rel[PATH_MAX];
	size_t mlen, tlen;
	const char *t;
	struct stat st;
	int fd;

	*r = (http_reply){ .status = 400, .fd = -1 };
	/* request-line = method SP request-target SP HTTP-version */
	mlen = strcspn(req, " \r\n");
	if (req[mlen] != ' ')
		return;
	r->head = mlen == 4 && !memcmp(req, "HEAD", 4);
	if (!r->head && !(mlen == 3 && !memcmp(req, "GET", 3))) {
		r->status = 405;
		return;
	}
	t = req + mlen + 1;
	tlen = strcspn(t, " \r\n");
	if ((r->status = target_path(t, tlen, rel, sizeof(rel))))
		return;
	fd = open_beneath(root, rel);
	if (fd < 0) {
		r->status = errno_status(errno);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		r->status = 403;
		return;
	}
	r->status = 200;
	r->size = st.st_size;
	if (r->head)
		close(fd);
	else
		r->fd = fd;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default:  return "Error";
	}
}

size_t http_format(const http_reply *r, char *out, size_t cap)
{
	const char *text = status_text(r->status);
	int n;

	char body[64];

	if (r->status == 200)
		n = snprintf(out, cap, "HTTP/1.1 200 OK\r\nServer: handshake\r\n"
			     "Content-Type: application/octet-stream\r\n"
			     "Content-Length: %jd\r\nConnection: close\r\n\r\n",
			     (intmax_t)r->size);
	else {
		/* the body repeats the status line: "404 Not Found\n" */
		snprintf(body, sizeof(body), "%d %s\n", r->status, text);
		n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nServer: handshake\r\n"
			     "Content-Type: text/plain\r\n"
			     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			     r->status, text, strlen(body), r->head ? "" : body);
	}
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}
