/* Error names and descriptions: HSK_E* codes are Linux errno values. */
#include "handshake.h"

struct err_desc {
	int code;
	const char *name, *text;
};

static const struct err_desc errors[] = {
	{ HSK_OK, "OK", "Success" },
	{ HSK_EPERM, "EPERM", "Operation not permitted" },
	{ HSK_ENOENT, "ENOENT", "No such file or directory" },
	{ HSK_EBADF, "EBADF", "Bad socket descriptor" },
	{ HSK_EAGAIN, "EAGAIN", "Resource temporarily unavailable" },
	{ HSK_ENOMEM, "ENOMEM", "Out of memory" },
	{ HSK_EINVAL, "EINVAL", "Invalid argument" },
	{ HSK_EMFILE, "EMFILE", "Too many open files" },
	{ HSK_EPIPE, "EPIPE", "Broken pipe" },
	{ HSK_EMSGSIZE, "EMSGSIZE", "Message too long" },
	{ HSK_ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available" },
	{ HSK_EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported" },
	{ HSK_EAFNOSUPPORT, "EAFNOSUPPORT", "Address family not supported by protocol" },
	{ HSK_EADDRINUSE, "EADDRINUSE", "Address already in use" },
	{ HSK_EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address" },
	{ HSK_ENETUNREACH, "ENETUNREACH", "Network is unreachable" },
	{ HSK_ECONNABORTED, "ECONNABORTED", "Software caused connection abort" },
	{ HSK_ECONNRESET, "ECONNRESET", "Connection reset by peer" },
	{ HSK_ENOBUFS, "ENOBUFS", "No buffer space available" },
	{ HSK_EISCONN, "EISCONN", "Socket is already connected" },
	{ HSK_ENOTCONN, "ENOTCONN", "Socket is not connected" },
	{ HSK_ETIMEDOUT, "ETIMEDOUT", "Connection timed out" },
	{ HSK_ECONNREFUSED, "ECONNREFUSED", "Connection refused" },
	{ HSK_EHOSTUNREACH, "EHOSTUNREACH", "No route to host" },
	{ HSK_EALREADY, "EALREADY", "Operation already in progress" },
	{ HSK_EINPROGRESS, "EINPROGRESS", "Operation now in progress" },
};

static const struct err_desc *err_find(int err)
{
	if (err < 0)
		err = -err;
	for (unsigned i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return &errors[i];
	return 0;
}

const char *hsk_errno_name(int err)
{
	const struct err_desc *e = err_find(err);
	return e ? e->name : "E?";
}

const char *hsk_strerror(int err)
{
	const struct err_desc *e = err_find(err);
	return e ? e->text : "Unknown error";
}
